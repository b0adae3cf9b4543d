/**
 * The app bundle's identity: `version.json` beside index.html lists every file of the build
 * with its SHA-256, and the **bundle hash** is the SHA-256 of that listing written the way
 * `sha256sum` prints it (`<hex>  <path>\n`, paths sorted bytewise). The service worker
 * (public/sw.js) recomputes the same hash from the bytes it downloads, pins it, and asks the
 * user before it runs a bundle with another hash (docs/verify-client.md).
 *
 * Left out of the listing: the .br/.gz copies (the browser sees the bytes they decompress to,
 * which are listed) and version.json itself (it is the listing). sw.js is listed, so a changed
 * worker is a changed bundle too.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Plugin } from 'vite';
import { filesUnder } from './precompress.js';

export const VERSION_FILE = 'version.json';

export interface BundleManifest {
  /** package.json's version. */
  version: string;
  /** SHA-256 (hex) of the listing below, in sha256sum's format. */
  hash: string;
  /** Path relative to the build folder (forward slashes) → SHA-256 hex of its bytes. */
  files: Record<string, string>;
}

/** Whether a file of the build folder belongs to the bundle (see the header). */
export function inBundle(path: string): boolean {
  return path !== VERSION_FILE && !/\.(br|gz)$/.test(path);
}

/** The listing as `sha256sum` prints it, sorted by path; its SHA-256 is the bundle hash. */
export function listingText(files: Record<string, string>): string {
  return Object.keys(files)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((path) => `${files[path]}  ${path}\n`)
    .join('');
}

export function bundleHash(files: Record<string, string>): string {
  return createHash('sha256').update(listingText(files)).digest('hex');
}

/** Hashes every bundle file under `dir` (a build folder). */
export function readBundle(dir: string, version: string): BundleManifest {
  const files: Record<string, string> = {};
  for (const path of filesUnder(dir)) {
    const name = relative(dir, path).split(sep).join('/');
    if (inBundle(name)) files[name] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return { version, hash: bundleHash(files), files };
}

/** Writes `dir`/version.json for the bundle in `dir` and returns it. */
export function writeBundleManifest(dir: string, version: string): BundleManifest {
  const manifest = readBundle(dir, version);
  writeFileSync(join(dir, VERSION_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * A Vite plugin that writes version.json once every file of the build (public/ copies included)
 * is on disk, and prints the version and bundle hash: `npm run build` shows what to compare.
 */
export function bundleManifest(version: string): Plugin {
  let outDir = '';
  return {
    name: 'sealpost-bundle-manifest',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    writeBundle: {
      // After the precompress plugin's copies exist (they are skipped anyway) and before nothing else.
      order: 'post',
      handler() {
        const manifest = writeBundleManifest(outDir, version);
        this.info(`app bundle: version ${manifest.version}, hash ${manifest.hash} (${Object.keys(manifest.files).length} files; docs/verify-client.md)`);
      },
    },
  };
}
