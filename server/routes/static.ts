/**
 * Serves the web client build at `/`, or a plain page saying it is not built. Only files whose
 * real path (symlinks resolved) lies inside `--static-dir` are served: a symlink pointing out of
 * it answers 404 like a missing file.
 *
 * First load on a slow link: the build writes brotli and gzip copies beside each text asset
 * (client/app/precompress.ts), served with the matching Content-Encoding to clients that accept
 * it (no compression work per request). Hashed files under assets/ never change, so browsers
 * keep them for a year without asking; every other file (index.html names the current hashes)
 * is revalidated on every load.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Sealpost relay</title>
<h1>Sealpost relay</h1><p>The relay is running, but the web client is not built.
Run <code>npm run build</code>, or point <code>--static-dir</code> at the client build folder.</p>`;

/** Whether `pathname` (and, for a folder, its index.html) resolves to a real path inside `realRoot`. */
export function staysInside(realRoot: string, root: string, pathname: string): boolean {
  const inside = (path: string): boolean => {
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      return true; // missing: @fastify/static answers 404 itself
    }
    return real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
  };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  const target = resolve(root, `.${sep}${decoded}`);
  if (!inside(target)) return false;
  try {
    if (statSync(target).isDirectory()) return inside(resolve(target, 'index.html'));
  } catch {
    // missing
  }
  return true;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

/** Files the build names by content hash (assets/name-HASH.ext, and their .br/.gz copies). */
export function isHashedAsset(root: string, path: string): boolean {
  const relative = path.slice(root.length).split(sep).filter(Boolean);
  return relative.length === 2 && relative[0] === 'assets' && /-[A-Za-z0-9_-]{8,}\.[a-z0-9]+(\.(br|gz))?$/.test(relative[1] ?? '');
}

export async function staticRoutes(app: FastifyInstance): Promise<void> {
  const root = resolve(app.relay.config.staticDir);
  if (existsSync(resolve(root, 'index.html'))) {
    const realRoot = realpathSync(root);
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      allowedPath: (pathname) => staysInside(realRoot, root, pathname),
      preCompressed: true,
      cacheControl: false,
      setHeaders: (response, path) => {
        response.setHeader('cache-control', isHashedAsset(root, path) ? IMMUTABLE : REVALIDATE);
        // The same URL answers brotli, gzip or identity: caches must key on Accept-Encoding.
        response.setHeader('vary', 'accept-encoding');
      },
    });
  } else {
    app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT));
  }
}
