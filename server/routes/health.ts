/** Liveness, readiness (the database takes a write lock) and Prometheus metrics (optionally behind a bearer token). */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { RelayError } from '../errors.js';
import { hasBearerToken } from '../http/bearer.js';
import { ErrorBody } from '../../protocol/http.js';

const Ok = Type.Object({ ok: Type.Literal(true) });

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', { schema: { response: { 200: Ok } } }, async () => ({ ok: true as const }));

  app.get('/readyz', { schema: { response: { 200: Ok, 503: ErrorBody } } }, async () => {
    if (!(await app.store.isWritable())) throw new RelayError('unavailable', 'database is not writable');
    return { ok: true as const };
  });

  app.get('/metrics', { schema: { response: { 401: ErrorBody } } }, async (request, reply) => {
    const token = app.relay.config.metricsToken;
    // Volumes and timings are operator information: behind a token when one is configured.
    if (token !== undefined && !hasBearerToken(request.headers.authorization, token)) {
      void reply.header('www-authenticate', 'Bearer realm="sealpost-metrics"');
      throw new RelayError('unauthorized', 'metrics require a bearer token');
    }
    const { registry } = app.relay.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
