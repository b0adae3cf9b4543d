/**
 * The Socket.IO gateway as a Fastify plugin: attaches a typed Server to app.server, installs
 * the handshake middleware and the per-IP connection caps, hands authenticated sockets to delivery
 * (server/delivery/: rooms, group commit, drains, pushes, cluster notices), and flushes and
 * disconnects on close.
 *
 * Before its handshake verifies, a connection is cheap: its frames are limited to
 * UNAUTHENTICATED_FRAME_BYTES (ws-engine.ts; long-polling bodies likewise), its packets are
 * decoded with bounded work (wire.ts), it must send its CONNECT within --handshake-timeout-ms,
 * and one IP may hold at most --max-unauthenticated-per-ip such connections. WebSocket only
 * unless --long-polling.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Server } from 'socket.io';
import { Delivery } from '../delivery/delivery.js';
import { SoloBus, type NoticeBus } from '../delivery/notice-bus.js';
import type { RelayServer } from '../types.js';
import type { RelaySocket } from './event-guard.js';
import { onConnection } from './connection.js';
import { allowFullFrames, limitPolling, singleWriteWsServer } from './ws-engine.js';
import { HandshakeError, authenticateHandshake } from './handshake.js';
import { InboundLimits } from '../limits/inbound-limits.js';
import type { Lease } from '../limits/leases.js';
import { relayParser } from './wire.js';
import { socketClientIp } from '../http/client-ip.js';
import { isAllowedOrigin } from '../http/origins.js';
import { isPublicHost } from '../http/public-origin.js';

/** Largest frame (or polling body) of a connection whose handshake has not verified: a signed CONNECT is ~300 bytes. */
export const UNAUTHENTICATED_FRAME_BYTES = 16 * 1024;

/** Largest Socket.IO packet: a full batch of maximal bodies plus per-envelope framing and slack. */
export function gatewayBufferBytes(maxBatch: number, maxBodyBytes: number): number {
  return maxBatch * (maxBodyBytes + 256) + 64 * 1024;
}

/** What the gateway uses of an Engine.IO connection. */
interface EngineConnection {
  remoteAddress: string;
  request: { headers: IncomingHttpHeaders };
  transport: { name?: string; socket?: unknown; maxHttpBufferSize?: number };
  close(): void;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

export interface GatewayOptions {
  /** The cluster's notice bus (server/cluster/); one process alone has none. */
  bus?: NoticeBus;
  /** The newest queued seq per device, for delivery's periodic checks in a cluster. */
  newestSeqs?: (deviceIds: readonly string[]) => Promise<Map<string, number>>;
}

async function gateway(app: FastifyInstance, options: GatewayOptions): Promise<void> {
  const { config, nonces, metrics, limits } = app.relay;
  const fullFrameBytes = gatewayBufferBytes(config.maxBatch, config.maxBodyBytes);
  const clientIp = (address: string, headers: IncomingHttpHeaders): string => socketClientIp(address, headers, config.trustProxy);
  // Per-IP budgets of connections held, in memory or (cluster) in Redis across the nodes; IPs are
  // never logged or stored on disk. Connections whose handshake has not verified yet, and sockets.
  const unauthenticated = app.relay.leases('unauthenticated', { maxCount: config.maxUnauthenticatedPerIp, ttlMs: Infinity });
  const sockets = app.relay.leases('sockets', { maxCount: limits.maxConnectionsPerIp, ttlMs: Infinity });
  // This node's own unverified connections per IP: an IP at the budget here alone is refused
  // before the WebSocket upgrade, at no cost (the lease decides for the whole cluster after it).
  const pendingHere = new Map<string, number>();
  const countPending = (ip: string, delta: 1 | -1): void => {
    const n = (pendingHere.get(ip) ?? 0) + delta;
    if (n <= 0) pendingHere.delete(ip);
    else pendingHere.set(ip, n);
  };
  const io: RelayServer = new Server(app.server, {
    serveClient: false,
    parser: relayParser(config.maxBatch, config.parser),
    transports: config.longPolling ? ['polling', 'websocket'] : ['websocket'],
    // ws, writing each small binary frame in one write, and small frames only before the handshake (ws-engine.ts).
    wsEngine: singleWriteWsServer(UNAUTHENTICATED_FRAME_BYTES, { bytesPerSecond: config.inboundBytesPerSecond, burstBytes: config.inboundBurstBytes }),
    // A batch of maximal bodies must fit in one packet (once authenticated).
    maxHttpBufferSize: fullFrameBytes,
    // A client that opened a connection but never sends its signed CONNECT is dropped.
    connectTimeout: config.handshakeTimeoutMs,
    // Browsers do not apply CORS to WebSockets, so the origin allow-list is enforced here too
    // (before any Engine.IO session exists: a refused origin costs no socket).
    allowRequest: (req, callback) => {
      const allowed = isAllowedOrigin(req.headers.origin, req.headers.host, config.corsOrigins);
      if (!allowed) return callback('forbidden', false);
      // With --public-origin, a connection for another Host is refused before it costs a socket (as HTTP requests are).
      if (!isPublicHost(req.headers.host, config)) return callback('invalid', false);
      const ip = clientIp(req.socket.remoteAddress ?? '', req.headers);
      if ((pendingHere.get(ip) ?? 0) >= config.maxUnauthenticatedPerIp) return callback('rate_limited', false);
      callback(null, true);
    },
    ...(config.corsOrigins.length > 0 ? { cors: { origin: [...config.corsOrigins] } } : {}),
  });

  // Every new Engine.IO connection holds an unauthenticated lease of its IP until its handshake
  // verifies or it closes; over the budget it is closed as soon as that is known. Long-polling
  // bodies are capped like WebSocket frames until then.
  const pendingSlots = new WeakMap<object, () => void>();
  io.engine.on('connection', (conn: EngineConnection) => {
    const ip = clientIp(conn.remoteAddress, conn.request.headers);
    limitPolling(conn.transport, UNAUTHENTICATED_FRAME_BYTES);
    countPending(ip, 1);
    let lease: Lease | undefined;
    let done = false;
    const releaseSlot = (): void => {
      if (done) return;
      done = true;
      countPending(ip, -1);
      conn.off('close', releaseSlot);
      pendingSlots.delete(conn);
      lease?.release();
    };
    pendingSlots.set(conn, releaseSlot);
    conn.once('close', releaseSlot);
    void unauthenticated.take(ip).then((taken) => {
      // Closed or verified while the lease was asked for: it is not needed.
      if (done) return taken?.release();
      if (!taken) {
        releaseSlot();
        return conn.close();
      }
      lease = taken;
    });
  });
  /** The handshake verified: the connection leaves the unauthenticated count and may send full frames, on this and any later transport. */
  const lifted = new WeakSet<object>();
  const authenticated = (conn: EngineConnection, deviceId: string): void => {
    pendingSlots.get(conn)?.();
    allowFullFrames(conn.transport, fullFrameBytes, deviceId);
    if (lifted.has(conn)) return;
    lifted.add(conn);
    conn.on('upgrade', (transport: unknown) => allowFullFrames(transport as EngineConnection['transport'], fullFrameBytes, deviceId));
  };

  // Refused handshakes cost the IP a token: guessing or replaying signatures, or a client stuck
  // on a bad key, soon stops costing the relay a signature check per attempt.
  const failures = app.relay.buckets('failed-handshakes', limits.failedHandshakes);
  io.use((socket, next) => {
    const ip = clientIp(socket.handshake.address, socket.handshake.headers);
    void Promise.resolve(failures.has(ip)).then(
      (allowed) => (allowed ? admit(socket, ip, next) : next(new HandshakeError('rate_limited'))),
      () => admit(socket, ip, next),
    );
  });
  // The socket's lease is taken before the (async) signature check, so concurrent handshakes
  // cannot overshoot the budget.
  const admit = (socket: RelaySocket, ip: string, next: (error?: Error) => void): void => {
    // Released once: on refusal, on disconnect, or when the connection closes mid-handshake
    // (Socket.IO then drops the socket without a 'disconnect' event).
    let lease: Lease | undefined;
    let gone = false;
    const releaseOnce = (): void => {
      if (gone) return;
      gone = true;
      socket.conn.off('close', releaseOnce);
      lease?.release();
    };
    socket.conn.once('close', releaseOnce);
    void sockets.take(ip).then((taken) => {
      if (gone) return taken?.release();
      if (!taken) {
        releaseOnce();
        return next(new HandshakeError('rate_limited'));
      }
      lease = taken;
      verify(socket, ip, next, releaseOnce);
    });
  };
  const verify = (socket: RelaySocket, ip: string, next: (error?: Error) => void, releaseOnce: () => void): void => {
    authenticateHandshake(socket, { store: app.store, nonces, skewMs: config.handshakeSkewMs }).then(
      (deviceId) => {
        socket.data.deviceId = deviceId;
        socket.once('disconnect', releaseOnce);
        authenticated(socket.conn as unknown as EngineConnection, deviceId);
        next();
      },
      (error: unknown) => {
        releaseOnce();
        if (error instanceof HandshakeError) {
          void Promise.resolve(failures.take(ip)).catch(() => undefined);
          app.log.debug({ event: 'handshake_refused', code: error.code }, 'handshake refused');
          return next(error);
        }
        app.log.error({ err: error }, 'handshake failed');
        next(new HandshakeError('internal'));
      },
    );
  };

  const delivery = new Delivery({ io, store: app.store, config, metrics, log: app.log, bus: options.bus ?? new SoloBus(), ...(options.newestSeqs ? { newestSeqs: options.newestSeqs } : {}) });

  const inbound = new InboundLimits(limits.inbound);
  io.on('connection', (socket) => onConnection(socket, { config, limits, store: app.store, delivery, inbound, metrics, log: app.log }));

  app.decorate('io', io);
  app.decorate('delivery', delivery);

  app.addHook('preClose', async () => {
    // Stop taking sends, write what is pending, then drop the sockets so the HTTP server can close.
    await delivery.flush();
    delivery.close();
    io.disconnectSockets(true);
    io.engine.close();
  });
}

export const gatewayPlugin = fp(gateway, { name: 'sealpost-gateway', dependencies: ['sealpost-store'] });
