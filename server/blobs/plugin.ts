/**
 * The blob store as a Fastify plugin: `app.blobs`, opened beside the relay's data and closed with
 * the app. In cluster mode (`--postgres`) the blobs live in PostgreSQL so every node serves them;
 * otherwise in `<dir of --db>/blobs` (a temporary folder, removed on close, when the database is
 * `:memory:`).
 */
import { dirname, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { BlobStore } from './blob-store.js';
import { FsBlobStore } from './fs-blob-store.js';
import { PgBlobStore } from './pg-blob-store.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Attachment blobs (server/blobs/blob-store.ts). */
    blobs: BlobStore;
  }
}

/** Where the embedded store keeps blobs for a database at `db`. */
export function blobsDir(db: string): string {
  return join(dirname(resolve(db)), 'blobs');
}

async function blobsPlugin(app: FastifyInstance): Promise<void> {
  const { config } = app.relay;
  const reserve = { minFreeBytes: config.minFreeDiskBytes };
  let blobs: BlobStore;
  if (config.postgres) blobs = await PgBlobStore.open(config.postgres);
  else if (config.db === ':memory:') {
    blobs = FsBlobStore.temporary(reserve);
    app.log.warn('database is in memory: attachments go to a temporary folder, deleted on exit');
  } else blobs = FsBlobStore.open(blobsDir(config.db), reserve);
  app.decorate('blobs', blobs);
  app.addHook('onClose', async () => blobs.close());
}

export const blobsDecorator = fp(blobsPlugin, { name: 'sealpost-blobs' });
