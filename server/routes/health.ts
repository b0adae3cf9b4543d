/** Liveness, readiness (the database takes a write lock) and Prometheus metrics. */
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { RelayError } from '../errors.js';
import { ErrorBody } from '../protocol/http.js';

const Ok = Type.Object({ ok: Type.Literal(true) });

export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', { schema: { response: { 200: Ok } } }, async () => ({ ok: true as const }));

  app.get('/readyz', { schema: { response: { 200: Ok, 503: ErrorBody } } }, async () => {
    if (!(await app.store.isWritable())) throw new RelayError('unavailable', 'database is not writable');
    return { ok: true as const };
  });

  app.get('/metrics', async (_request, reply) => {
    const { registry } = app.relay.metrics;
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
