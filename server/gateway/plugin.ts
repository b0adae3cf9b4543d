/**
 * The Socket.IO gateway as a Fastify plugin: attaches a typed Server to app.server, installs
 * the handshake middleware and the per-IP connection cap, owns the group commit that pushes
 * stored envelopes to `io.to(deviceId)` rooms, and flushes and disconnects on close.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Server } from 'socket.io';
import type { DeliveredEnvelope } from '../protocol/events.js';
import { drainingRoom, type RelayServer } from '../types.js';
import { onConnection } from './connection.js';
import { GroupCommit, type StoredEnvelope } from './group-commit.js';
import { HandshakeError, authenticateHandshake } from './handshake.js';
import { emitInChunks, relayParser } from './wire.js';

function isSameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

async function gateway(app: FastifyInstance): Promise<void> {
  const { config, nonces, metrics } = app.relay;
  const io: RelayServer = new Server(app.server, {
    serveClient: false,
    parser: relayParser(config.maxBatch),
    // A batch of maximal bodies must fit in one packet.
    maxHttpBufferSize: config.maxBatch * (config.maxBodyBytes + 256) + 64 * 1024,
    // Browsers do not apply CORS to WebSockets, so the origin allow-list is enforced here too.
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      const allowed = origin === undefined || isSameOrigin(origin, req.headers.host) || config.corsOrigins.includes(origin);
      callback(allowed ? null : 'forbidden', allowed);
    },
    ...(config.corsOrigins.length > 0 ? { cors: { origin: [...config.corsOrigins] } } : {}),
  });

  // Per-IP connection counts live in memory only (IPs are never logged or stored).
  const perIp = new Map<string, number>();
  io.use((socket, next) => {
    const ip = socket.handshake.address;
    const open = perIp.get(ip) ?? 0;
    if (open >= config.maxConnectionsPerIp) return next(new HandshakeError('rate_limited'));
    authenticateHandshake(socket, { store: app.store, nonces, skewMs: config.handshakeSkewMs }).then(
      (deviceId) => {
        socket.data.deviceId = deviceId;
        perIp.set(ip, (perIp.get(ip) ?? 0) + 1);
        socket.once('disconnect', () => {
          const left = (perIp.get(ip) ?? 1) - 1;
          if (left <= 0) perIp.delete(ip);
          else perIp.set(ip, left);
        });
        next();
      },
      (error: unknown) => {
        if (error instanceof HandshakeError) {
          app.log.debug({ event: 'handshake_refused', code: error.code }, 'handshake refused');
          return next(error);
        }
        app.log.error({ err: error }, 'handshake failed');
        next(new HandshakeError('internal'));
      },
    );
  });

  const pushStored = (stored: StoredEnvelope[]): void => {
    const byDevice = new Map<string, DeliveredEnvelope[]>();
    for (const { item, seq } of stored) {
      const list = byDevice.get(item.to) ?? [];
      list.push({ id: item.id, seq, body: item.body });
      byDevice.set(item.to, list);
    }
    for (const [deviceId, envelopes] of byDevice) {
      envelopes.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
      // Sockets still draining get these from their drain, in order.
      const live = io.to(deviceId).except(drainingRoom(deviceId));
      emitInChunks((batch) => live.emit('envelopes', batch), envelopes);
      metrics.envelopesDelivered.inc(envelopes.length);
    }
  };

  const groupCommit = new GroupCommit(app.store, { maxEnvelopes: config.maxQueueEnvelopes, maxBytes: config.maxQueueBytes }, (stored) => {
    metrics.enqueueTransactions.inc();
    metrics.envelopesStored.inc(stored.length);
    pushStored(stored);
  });

  io.on('connection', (socket) => onConnection(socket, { config, store: app.store, io, groupCommit, metrics, log: app.log }));

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
