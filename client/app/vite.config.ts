import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { bundleManifest } from './bundle-manifest.js';
import { precompress } from './precompress.js';
import { sodiumWasm } from './sodium-wasm.js';
import { transferSizeReport } from './transfer-size-report.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

// The relay serves dist/web with @fastify/static; nothing here may need a dev server at run time.
// Not dist/client: tsc emits the SDK and the CLI there, and this build empties its folder.
export default defineConfig({
  root,
  base: './',
  // bundleManifest last: version.json lists every file the build wrote (docs/verify-client.md).
  plugins: [sodiumWasm(), transferSizeReport(), precompress(), bundleManifest(version)],
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  // The page knows its own version; its hash it learns from the service worker (a file cannot hold its own hash).
  define: { __SEALPOST_VERSION__: JSON.stringify(version) },
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
    // One chunk: libsodium (with its inlined WebAssembly) is most of it and every screen needs it.
    chunkSizeWarningLimit: 800,
  },
});
