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
  // Engine.IO connections per IP whose handshake has not verified yet (memory only, like perIp below).
  const unauthenticated = new Map<string, number>();
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
      // Refused before the upgrade when the IP is at its cap (the 'connection' hook below is the authoritative count).
      const ip = clientIp(req.socket.remoteAddress ?? '', req.headers);
      if ((unauthenticated.get(ip) ?? 0) >= config.maxUnauthenticatedPerIp) return callback('rate_limited', false);
      callback(null, true);
    },
    ...(config.corsOrigins.length > 0 ? { cors: { origin: [...config.corsOrigins] } } : {}),
  });

  // Every new Engine.IO connection holds an unauthenticated slot of its IP until its handshake
  // verifies or it closes; over the cap it is closed at once. Long-polling bodies are capped
  // like WebSocket frames until then.
  const pendingSlots = new WeakMap<object, () => void>();
  io.engine.on('connection', (conn: EngineConnection) => {
    const ip = clientIp(conn.remoteAddress, conn.request.headers);
    const open = unauthenticated.get(ip) ?? 0;
    if (open >= config.maxUnauthenticatedPerIp) {
      conn.close();
      return;
    }
    unauthenticated.set(ip, open + 1);
    limitPolling(conn.transport, UNAUTHENTICATED_FRAME_BYTES);
    let held = true;
    const releaseSlot = (): void => {
      if (!held) return;
      held = false;
      conn.off('close', releaseSlot);
      pendingSlots.delete(conn);
      const left = (unauthenticated.get(ip) ?? 1) - 1;
      if (left <= 0) unauthenticated.delete(ip);
      else unauthenticated.set(ip, left);
    };
    pendingSlots.set(conn, releaseSlot);
    conn.once('close', releaseSlot);
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
  const failures = app.relay.buckets('failed-handshakes', limits.failedHandshakes);
  io.use((socket, next) => {
    const ip = clientIp(socket.handshake.address, socket.handshake.headers);
    void Promise.resolve(failures.has(ip)).then(
      (allowed) => (allowed ? admit(socket, ip, next) : next(new HandshakeError('rate_limited'))),
      () => admit(socket, ip, next),
    );
  });
  const admit = (socket: RelaySocket, ip: string, next: (error?: Error) => void): void => {
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
