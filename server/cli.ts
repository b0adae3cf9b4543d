/**
 * `sealpost serve`, the relay's one command. bin/sealpost.ts lists it in the binary's command
 * table and imports this module only to run it or show its help; the flags it shows are
 * server/config.ts's option table.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { FLAGS, loadConfig, redactUrl, type AnyOption } from './config.js';
import { listen } from './listen.js';

function shownDefault(option: AnyOption): string {
  if (option.shownDefault !== undefined) return option.shownDefault;
  const value = option.default;
  return value === undefined || (Array.isArray(value) && value.length === 0) ? 'none' : String(value);
}

export const serve = {
  usage: [''],
  flags: Object.fromEntries(FLAGS.map((o) => [o.flag, { value: o.type.value, help: o.help, env: o.env, default: shownDefault(o) }])),
  /** Never resolves: the relay runs until a signal ends the process. */
  async run(args: string[]): Promise<number> {
    const config = loadConfig(args, process.env);
    const app = await buildApp(config);
    const url = await listen(app, config);
    // The cluster's URLs may hold passwords: they are logged redacted.
    const storage = config.postgres === undefined ? { db: config.db } : { postgres: redactUrl(config.postgres), ...(config.redis === undefined ? {} : { redis: redactUrl(config.redis) }) };
    app.log.info({ event: 'listening', url, ...storage, tls: Boolean(config.tlsCert) }, `sealpost relay listening on ${url}`);
    installShutdown(app);
    return new Promise<number>(() => undefined);
  },
};

function installShutdown(app: FastifyInstance): void {
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    app.log.info({ event: 'shutdown', signal }, 'shutting down');
    // app.close(): stop accepting, flush the pending group commit, close sockets, close the db.
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
