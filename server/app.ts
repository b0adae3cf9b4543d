/**
 * Builds the relay: a Fastify app with Socket.IO attached, as a tree of encapsulated plugins
 * (store decorator → gateway → routes under /v2 → 410 under /v1 → health → static). Never
 * listens: tests use app.inject() or server/listen.ts.
 */
import { readFileSync } from 'node:fs';
import fastifyCors from '@fastify/cors';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { ready } from '../crypto/sodium.js';
import type { Config } from './config.js';
import { RelayError } from './errors.js';
import { gatewayPlugin } from './gateway/plugin.js';
import { proxyTrustFor } from './http/client-ip.js';
import { clientErrorHandler, frameworkErrors, installErrorHandlers, installRawJsonParser } from './http/error-handlers.js';
import { NonceCache } from './http/nonce-cache.js';
import { NonceJournal, noncesPath } from './http/nonce-file.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { originGuardPlugin } from './http/origin-guard.js';
import { bindRelayConfig, hostGuardPlugin, startupWarnings } from './http/public-origin.js';
import { ratePolicy } from './limits/rate-policy.js';
import { memoryLeases } from './limits/leases.js';
import { localBuckets } from './limits/token-bucket.js';
import { PROTOCOL_VERSION, PROVISIONING_BODY_MAX_CHARS } from '../protocol/http.js';
import { accountRoutes } from './routes/accounts.js';
import { attachmentRoutes } from './routes/attachments.js';
import { deviceRoutes } from './routes/devices.js';
import { healthRoutes } from './routes/health.js';
import { ProvisioningMailbox } from './routes/provisioning-mailbox.js';
import { provisioningRoutes } from './routes/provisioning.js';
import { pushRoutes } from './routes/push.js';
import { retiredVersionRoutes } from './routes/retired-versions.js';
import { securityHeaders } from './routes/security-headers.js';
import { staticRoutes } from './routes/static.js';
import { openCluster } from './cluster/cluster.js';
import { startSweeper } from './sweeper.js';
import { blobsDecorator } from './blobs/plugin.js';
import { storeDecorator } from './store/plugin.js';
import type { Store } from './store/store.js';
import './types.js';

export interface BuildOptions {
  /** Where log lines go (default stdout). */
  logStream?: DestinationStream;
  /** Use this store instead of opening SQLite at config.db. */
  store?: Store;
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  await ready();
  const https = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : null;
  const app = Fastify({
    loggerInstance: createLogger(config.logLevel, options.logStream),
    // Fastify's default request logs carry the remote address; we log our own line instead.
    logController: new LogController({ disableRequestLogging: true }),
    // Only the listed proxies' X-Forwarded-For is believed (right-most untrusted entry); sockets
    // use the same trust test (server/http/client-ip.ts).
    trustProxy: config.trustProxy.length > 0 ? ((address: string) => proxyTrustFor(config.trustProxy)(address)) : false,
    // The largest JSON body is a provisioning blob (base64url of one envelope body) plus slack.
    bodyLimit: Math.max(PROVISIONING_BODY_MAX_CHARS, Math.ceil((config.maxBodyBytes * 4) / 3)) + 16 * 1024,
    return503OnClosing: true,
    // Refusals raised before a route runs are typed like every other one.
    clientErrorHandler,
    frameworkErrors,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
    ...(https ? { https } : {}),
  }) as unknown as FastifyInstance;
  // Connections that never complete a request are closed soon (Node's own limits are 60 s and
  // 300 s, checked every 30 s): one that sends nothing or half a header by headersTimeoutMs, a
  // slow body by requestTimeoutMs, an idle keep-alive by keepAliveTimeoutMs. Upgraded WebSockets
  // leave Node's HTTP tracking; the gateway's handshake timeout covers them.
  app.server.keepAliveTimeout = config.keepAliveTimeoutMs;
  app.server.requestTimeout = config.requestTimeoutMs;
  app.server.headersTimeout = Math.min(config.headersTimeoutMs, config.requestTimeoutMs);
  (app.server as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.min(1000, Math.ceil(app.server.headersTimeout / 4));

  // Cluster mode: PostgreSQL holds the data and the state every node must share; Redis is the bus.
  const cluster = config.postgres ? await openCluster(config, app.log) : undefined;
  if (cluster) app.addHook('onClose', async () => cluster.close());
  const nonces = cluster?.nonces ?? new NonceCache(config.handshakeSkewMs, config.noncesPerDevice);
  const limits = ratePolicy(config);
  const buckets = cluster?.buckets ?? localBuckets;
  const nonceFile = cluster ? undefined : noncesPath(config.db);
  if (nonceFile && nonces instanceof NonceCache) {
    const journal = new NonceJournal(nonceFile, nonces, app.log);
    // After the server stopped taking handshakes and requests: nothing is remembered after this.
    app.addHook('onClose', async () => {
      try {
        journal.close();
      } catch (error) {
        app.log.warn({ err: error }, 'could not rewrite the replay cache; the next start reads what was appended');
      }
    });
  }
  app.decorate('relay', {
    config,
    nonces,
    // The store plugin registers later; a scrape reads app.store lazily.
    metrics: createMetrics(() => app.store.relayStats(), () => app.blobs.stats()),
    signers: buckets('signed-requests', limits.signedRequests),
    buckets,
    leases: cluster?.leases ?? memoryLeases,
    limits,
    mailbox: cluster?.mailbox ?? new ProvisioningMailbox(),
  });
  installErrorHandlers(app);
  installRawJsonParser(app);
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ req: request, res: reply, ms: Math.round(reply.elapsedTime) }, 'request completed');
  });

  for (const warning of startupWarnings(config)) app.log.warn({ event: 'config_warning' }, warning);

  await app.register(securityHeaders);
  // With --public-origin, a request for another Host is refused before anything else reads it.
  await app.register(hostGuardPlugin);
  // Refuse foreign origins outright; @fastify/cors then answers preflights for the listed ones.
  await app.register(originGuardPlugin);
  if (config.corsOrigins.length > 0) await app.register(fastifyCors, { origin: [...config.corsOrigins] });
  await app.register(fastifyRateLimit, {
    global: false,
    // In a cluster the per-IP counters are shared through Redis; while Redis is away each request passes uncounted rather than failing.
    ...(cluster?.rateLimitRedis ? { redis: cluster.rateLimitRedis, nameSpace: 'sealpost-rate:', skipOnError: true } : {}),
    errorResponseBuilder: (_request, context) => new RelayError('rate_limited', `retry in ${Math.ceil(context.ttl / 1000)} s`),
  });
  const store = options.store ?? cluster?.store;
  await app.register(storeDecorator, { ...(store ? { store } : {}) });
  await app.register(blobsDecorator);
  await app.register(gatewayPlugin, { ...(cluster ? { bus: cluster.bus, newestSeqs: cluster.newestSeqs } : {}) });
  // Socket handshakes verify their signature against --public-origin's host (gateway/handshake.ts).
  bindRelayConfig(app.io, config);
  await app.register(
    async (v2) => {
      await v2.register(accountRoutes);
      await v2.register(deviceRoutes);
      await v2.register(provisioningRoutes);
      await v2.register(attachmentRoutes);
      await v2.register(pushRoutes);
    },
    { prefix: `/v${PROTOCOL_VERSION}` },
  );
  await app.register(retiredVersionRoutes);
  await app.register(healthRoutes);
  await app.register(staticRoutes);
  startSweeper(app, cluster ? (now) => cluster.sweep(now) : undefined);
  await app.ready();
  return app;
}
