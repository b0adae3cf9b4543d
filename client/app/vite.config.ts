import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { precompress } from './precompress.js';
import { transferSizeReport } from './transfer-size-report.js';

const root = fileURLToPath(new URL('.', import.meta.url));

// The relay serves dist/web with @fastify/static; nothing here may need a dev server at run time.
// Not dist/client: tsc emits the SDK and the CLI there, and this build empties its folder.
export default defineConfig({
  root,
  base: './',
  plugins: [transferSizeReport(), precompress()],
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
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
