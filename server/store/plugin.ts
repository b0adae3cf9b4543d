/** The store as a Fastify plugin: decorated on the root instance, closed on app close. */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { SqliteStore } from './sqlite/sqlite-store.js';
import type { Store } from './store.js';

export interface StorePluginOptions {
  /** An already-open store (tests); otherwise SQLite at config.db. */
  store?: Store;
}

async function storePlugin(app: FastifyInstance, options: StorePluginOptions): Promise<void> {
  const { config } = app.relay;
  const store = options.store ?? new SqliteStore(config.db, { synchronous: config.dbSynchronous, minFreeBytes: config.minFreeDiskBytes });
  if (config.db === ':memory:') app.log.warn('database is in memory: queued envelopes are lost on exit');
  app.decorate('store', store);
  app.addHook('onClose', async () => store.close());
}

export const storeDecorator = fp(storePlugin, { name: 'sealpost-store' });
