/**
 * A Vite plugin that writes a brotli (`.br`, quality 11) and a gzip (`.gz`, level 9) copy beside
 * every text asset of the build, so the relay serves them precompressed (server/routes/static.ts)
 * and spends no CPU per request. Compression runs once, at build time, with Node's zlib; files
 * that do not shrink by at least 10 % are left alone.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|webmanifest|wasm|txt)$/;

/** Every file under `dir`, at any depth (the build folder: also read by bundle-manifest.ts). */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

export function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'sealpost-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    writeBundle() {
      for (const file of filesUnder(outDir)) {
        if (!COMPRESSIBLE.test(file)) continue;
        const bytes = readFileSync(file);
        const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
        const gzip = gzipSync(bytes, { level: 9 });
        if (brotli.length <= bytes.length * 0.9) writeFileSync(`${file}.br`, brotli);
        if (gzip.length <= bytes.length * 0.9) writeFileSync(`${file}.gz`, gzip);
      }
    },
  };
}
