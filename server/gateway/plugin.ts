/**
 * The Socket.IO gateway as a Fastify plugin: attaches a typed Server to app.server, installs
 * the handshake middleware and the per-IP connection cap, owns the group commit that pushes
 * stored envelopes to `io.to(deviceId)` rooms (a device's live sockets, each within its send
 * buffer cap: live-push.ts), and flushes and disconnects on close.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Server } from 'socket.io';
import type { DeliveredEnvelope } from '../protocol/events.js';
import type { RelayServer } from '../types.js';
import { onConnection } from './connection.js';
import { SingleWriteWsServer } from './ws-engine.js';
import { GroupCommit, type StoredEnvelope } from './group-commit.js';
import { HandshakeError, authenticateHandshake } from './handshake.js';
import { KeyedBuckets } from '../limits/token-bucket.js';
import { LiveSockets } from './live-push.js';
import { relayParser } from './wire.js';
import { socketClientIp } from '../http/client-ip.js';
import { isAllowedOrigin } from '../http/origins.js';

/** Largest Socket.IO packet: a full batch of maximal bodies plus per-envelope framing and slack. */
export function gatewayBufferBytes(maxBatch: number, maxBodyBytes: number): number {
  return maxBatch * (maxBodyBytes + 256) + 64 * 1024;
}

async function gateway(app: FastifyInstance): Promise<void> {
  const { config, nonces, metrics, limits } = app.relay;
  const io: RelayServer = new Server(app.server, {
    serveClient: false,
    parser: relayParser(config.maxBatch, config.parser),
    // ws, writing each small binary frame in one write (ws-engine.ts).
    wsEngine: SingleWriteWsServer,
    // A batch of maximal bodies must fit in one packet.
    maxHttpBufferSize: gatewayBufferBytes(config.maxBatch, config.maxBodyBytes),
    // A client that opened a connection but never sends its signed CONNECT is dropped.
    connectTimeout: config.handshakeTimeoutMs,
    // Browsers do not apply CORS to WebSockets, so the origin allow-list is enforced here too
    // (before any Engine.IO session exists: a refused origin costs no socket).
    allowRequest: (req, callback) => {
      const allowed = isAllowedOrigin(req.headers.origin, req.headers.host, config.corsOrigins);
      callback(allowed ? null : 'forbidden', allowed);
    },
    ...(config.corsOrigins.length > 0 ? { cors: { origin: [...config.corsOrigins] } } : {}),
  });

  // Per-IP connection counts live in memory only (IPs are never logged or stored). A slot is
  // taken before the (async) signature check so concurrent handshakes cannot overshoot the cap.
  const perIp = new Map<string, number>();
  const release = (ip: string): void => {
    const left = (perIp.get(ip) ?? 1) - 1;
    if (left <= 0) perIp.delete(ip);
    else perIp.set(ip, left);
  };
  // Refused handshakes cost the IP a token: guessing or replaying signatures, or a client stuck
  // on a bad key, soon stops costing the relay a signature check per attempt.
  const failures = new KeyedBuckets(limits.failedHandshakes);
  io.use((socket, next) => {
    const ip = socketClientIp(socket.handshake.address, socket.handshake.headers, config.trustProxy);
    if (!failures.has(ip)) return next(new HandshakeError('rate_limited'));
    const open = perIp.get(ip) ?? 0;
    if (open >= limits.maxConnectionsPerIp) return next(new HandshakeError('rate_limited'));
    perIp.set(ip, open + 1);
    // Released once: on refusal, on disconnect, or when the connection closes mid-handshake
    // (Socket.IO then drops the socket without a 'disconnect' event).
    let held = true;
    const releaseOnce = (): void => {
      if (!held) return;
      held = false;
      socket.conn.off('close', releaseOnce);
      release(ip);
    };
    socket.conn.once('close', releaseOnce);
    authenticateHandshake(socket, { store: app.store, nonces, skewMs: config.handshakeSkewMs }).then(
      (deviceId) => {
        socket.data.deviceId = deviceId;
        socket.once('disconnect', releaseOnce);
        next();
      },
      (error: unknown) => {
        releaseOnce();
        if (error instanceof HandshakeError) {
          failures.take(ip);
          app.log.debug({ event: 'handshake_refused', code: error.code }, 'handshake refused');
          return next(error);
        }
        app.log.error({ err: error }, 'handshake failed');
        next(new HandshakeError('internal'));
      },
    );
  });

  const live = new LiveSockets(io);
  const pushStored = (stored: StoredEnvelope[]): void => {
    const byDevice = new Map<string, DeliveredEnvelope[]>();
    for (const { item, seq } of stored) {
      const list = byDevice.get(item.to) ?? [];
      list.push({ id: item.id, seq, body: item.body });
      byDevice.set(item.to, list);
    }
    for (const [deviceId, envelopes] of byDevice) {
      envelopes.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
      // Only live sockets with room are pushed to: those draining (or paused) get these from their drain, in order.
      const sockets = live.push(deviceId, envelopes);
      if (sockets > 0) metrics.envelopesPushed.inc(envelopes.length * sockets);
    }
  };

  const groupCommit = new GroupCommit(app.store, { maxEnvelopes: config.maxQueueEnvelopes, maxBytes: config.maxQueueBytes }, (stored) => {
    metrics.enqueueTransactions.inc();
    metrics.envelopesStored.inc(stored.length);
    metrics.writeBatchSize.observe(stored.length);
    pushStored(stored);
  });

  io.on('connection', (socket) => onConnection(socket, { config, limits, store: app.store, io, live, groupCommit, metrics, log: app.log }));

  app.decorate('io', io);
  app.decorate('groupCommit', groupCommit);

  app.addHook('preClose', async () => {
    // Stop taking sends, write what is pending, then drop the sockets so the HTTP server can close.
    await groupCommit.flush();
    io.disconnectSockets(true);
    io.engine.close();
  });
}

export const gatewayPlugin = fp(gateway, { name: 'sealpost-gateway', dependencies: ['sealpost-store'] });
