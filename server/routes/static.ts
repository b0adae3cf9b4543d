/** Serves the web client build at `/`, or a plain page saying it is not built. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Sealpost relay</title>
<h1>Sealpost relay</h1><p>The relay is running, but the web client is not built.
Run <code>npm run build</code>, or point <code>--static-dir</code> at the client build folder.</p>`;

export async function staticRoutes(app: FastifyInstance): Promise<void> {
  const root = resolve(app.relay.config.staticDir);
  if (existsSync(resolve(root, 'index.html'))) {
    await app.register(fastifyStatic, { root, prefix: '/', wildcard: false, index: ['index.html'] });
  } else {
    app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT));
  }
}
