/** Refuses HTTP requests whose Origin is neither this relay nor on --cors-origin (403 forbidden). */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { RelayError } from '../errors.js';
import { isAllowedOrigin } from './origins.js';

async function originGuard(app: FastifyInstance): Promise<void> {
  const allowList = app.relay.config.corsOrigins;
  app.addHook('onRequest', async (request) => {
    const origin = request.headers.origin;
    if (!isAllowedOrigin(origin, request.headers.host, allowList)) throw new RelayError('forbidden', 'origin not allowed');
  });
}

export const originGuardPlugin = fp(originGuard, { name: 'sealpost-origin-guard' });
