/**
 * Routes of retired protocol versions: anything under /v1 answers 410 `unsupported_version`,
 * whatever the method, path or body, so an old client learns it must update instead of meeting
 * 404s or, worse, a v2 route that reads its v1 body some other way. v1 and v2 signatures differ
 * (their labels do), so nothing a v1 client signs could be accepted anyway.
 */
import type { FastifyInstance } from 'fastify';
import { RelayError } from '../errors.js';

export async function retiredVersionRoutes(app: FastifyInstance): Promise<void> {
  const refuse = async (): Promise<never> => {
    throw new RelayError('unsupported_version');
  };
  // onRequest runs before the body is read: a v1 body that is too large or not JSON is still 410.
  app.addHook('onRequest', refuse);
  app.all('/v1', refuse);
  app.all('/v1/*', refuse);
}
