/**
 * A Vite plugin for the first load: libsodium ships its WebAssembly as a base64 string inside
 * its JavaScript (296 KB of text, 107 KB after brotli). This moves it into a binary asset of its
 * own (222 KB, 82 KB after brotli: a quarter less on the wire) that index.html preloads, so it
 * downloads beside the script instead of inside it, and the page no longer decodes base64.
 *
 * The rewrite is exact or nothing: the one place libsodium.mjs decodes the string
 * (`(A=>{…})("<base64>")`, inside an async function) becomes a fetch of the asset. If a libsodium
 * update changes that shape, the build fails rather than silently shipping the old way.
 */
import type { Plugin } from 'vite';

const SODIUM_MODULE = /[\\/]libsodium[\\/]dist[\\/]modules-esm[\\/]libsodium\.mjs$/;
/** The inlined decoder applied to the base64 literal: an arrow function without braces inside. */
const INLINED_WASM = /\(\w+=>\{[^{}]*\}\)\("([A-Za-z0-9+/]+={0,2})"\)/g;
const ASSET_NAME = 'libsodium.wasm';

export function sodiumWasm(): Plugin {
  let fileName: string | undefined;
  return {
    name: 'sealpost-sodium-wasm',
    apply: 'build',
    transform(code, id) {
      if (!SODIUM_MODULE.test(id)) return null;
      const found = [...code.matchAll(INLINED_WASM)];
      if (found.length !== 1 || found[0]?.index === undefined) this.error(`libsodium.mjs: expected one inlined WebAssembly string, found ${found.length}`);
      const [whole, base64] = found[0] as RegExpMatchArray & { index: number };
      const bytes = Buffer.from(base64 ?? '', 'base64');
      if (bytes.subarray(0, 4).toString('latin1') !== '\0asm') this.error('libsodium.mjs: the inlined string is not WebAssembly');
      const ref = this.emitFile({ type: 'asset', name: ASSET_NAME, source: bytes });
      // Same value as before (a Uint8Array of the module), fetched instead of decoded.
      const fetched = `new Uint8Array(await (await fetch(import.meta.ROLLUP_FILE_URL_${ref})).arrayBuffer())`;
      const index = (found[0] as RegExpMatchArray).index ?? 0;
      return { code: code.slice(0, index) + fetched + code.slice(index + whole.length), map: null };
    },
    generateBundle(_options, bundle) {
      fileName = Object.values(bundle).find((output) => output.type === 'asset' && output.names.includes(ASSET_NAME))?.fileName;
    },
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        const asset = fileName ?? Object.values(context.bundle ?? {}).find((output) => output.type === 'asset' && output.names.includes(ASSET_NAME))?.fileName;
        if (!asset) return [];
        // crossorigin: fetch() asks in cors mode; a preload of another mode would not be reused.
        return [{ tag: 'link', attrs: { rel: 'preload', href: `./${asset}`, as: 'fetch', type: 'application/wasm', crossorigin: '' }, injectTo: 'head' }];
      },
    },
  };
}
