/** Starts listening (separate from buildApp so tests and the CLI choose how). */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';

/** Listens on config.host:config.port; returns the base URL (http or https). */
export async function listen(app: FastifyInstance, config: Config): Promise<string> {
  // The caller logs the URL once; Fastify's own line is replaced so logs carry no addresses.
  await app.listen({ host: config.host, port: config.port, listenTextResolver: () => 'relay socket bound' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const scheme = config.tlsCert ? 'https' : 'http';
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `${scheme}://${host}:${port}`;
}
