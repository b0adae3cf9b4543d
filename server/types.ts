/** Fastify decorations of the relay (declaration merging) and the typed Socket.IO server. */
import type { Server } from 'socket.io';
import type { Config } from './config.js';
import type { Delivery } from './delivery/delivery.js';
import type { NonceRegistry } from './http/nonce-cache.js';
import type { RatePolicy } from './limits/rate-policy.js';
import type { LeasesFactory } from './limits/leases.js';
import type { Buckets, BucketsFactory } from './limits/token-bucket.js';
import type { RelayMetrics } from './metrics.js';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '../protocol/events.js';
import type { LinkMailbox } from './routes/provisioning-mailbox.js';
import type { Store } from './store/store.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export type RelayServer = Server<ClientToServerEvents, ServerToClientEvents, {}, SocketData>;

export interface RelayContext {
  config: Config;
  /** Nonces of signed HTTP requests and handshakes, per signer (prefixed so the two never collide). */
  nonces: NonceRegistry;
  /** Signed requests per signing key (token buckets; signed-request.ts). */
  signers: Buckets;
  /** Token buckets keyed to who asks: this process's memory, or Redis shared by a cluster's nodes. */
  buckets: BucketsFactory;
  /** Budgets of things held (sockets per address): this process's memory, or Redis shared by a cluster's nodes. */
  leases: LeasesFactory;
  metrics: RelayMetrics;
  /** Per-IP and per-socket limits, shared by routes (@fastify/rate-limit) and the gateway. */
  limits: RatePolicy;
  mailbox: LinkMailbox;
}

declare module 'fastify' {
  interface FastifyInstance {
    store: Store;
    relay: RelayContext;
    io: RelayServer;
    delivery: Delivery;
  }
  interface FastifyRequest {
    /** The exact request body bytes, kept for signature verification. */
    rawBody?: Buffer;
  }
}
