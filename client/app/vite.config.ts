import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { transferSizeReport } from './transfer-size-report.js';

const root = fileURLToPath(new URL('.', import.meta.url));

// The relay serves dist/client with @fastify/static; nothing here may need a dev server at run time.
export default defineConfig({
  root,
  base: './',
  plugins: [transferSizeReport()],
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../../dist/client', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
    // One chunk: libsodium (with its inlined WebAssembly) is most of it and every screen needs it.
    chunkSizeWarningLimit: 800,
  },
});
