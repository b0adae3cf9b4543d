/**
 * A Vite plugin that prints what a first page load transfers in JavaScript and WebAssembly
 * (gzip, as the relay or a proxy would send it), against the project's budget. libsodium's
 * WebAssembly is inlined in the JavaScript bundle, so the JS figure includes it. Chunks loaded
 * later with import() are left out.
 */
import { gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

const BUDGET_KIB = 400;

export function transferSizeReport(): Plugin {
  return {
    name: 'sealpost-transfer-size-report',
    apply: 'build',
    generateBundle(_options, bundle) {
      let raw = 0;
      let gzip = 0;
      for (const output of Object.values(bundle)) {
        if (!/\.(m?js|wasm)$/.test(output.fileName)) continue;
        // A chunk only imported with import() (the QR scanner's decoder) is not part of a page load.
        if (output.type === 'chunk' && output.isDynamicEntry && !output.isEntry) continue;
        const bytes = output.type === 'chunk' ? Buffer.from(output.code) : Buffer.from(output.source);
        raw += bytes.length;
        gzip += gzipSync(bytes, { level: 9 }).length;
      }
      const kib = (n: number) => (n / 1024).toFixed(1);
      const verdict = gzip / 1024 <= BUDGET_KIB ? 'within' : 'OVER';
      this.info(`page load, JavaScript + WebAssembly: ${kib(gzip)} KiB gzip (${kib(raw)} KiB raw), ${verdict} the ${BUDGET_KIB} KiB budget`);
    },
  };
}
