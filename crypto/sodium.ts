import sodiumModule from 'libsodium-wrappers';

export type Sodium = typeof sodiumModule;

let initialized = false;

/**
 * libsodium.js asks its host for every random byte separately (`getRandomValue`, a 32-bit word
 * of which it keeps one byte), and in Node each ask is a `crypto.randomBytes(4)`: 24 random bytes
 * cost 49 µs, a key pair (32 asks) 105 µs, half of a seal. The same CSPRNG
 * (`crypto.getRandomValues`, in Node and in browsers) drawn 4 KiB at a time hands out each word
 * once, at 4 µs per 24 bytes. docs/PROTOCOL.md §1 records the choice.
 */
function drawRandomnessInBatches(module: Sodium): void {
  const host = (module as unknown as { libsodium?: { getRandomValue?: () => number } }).libsodium;
  // Another libsodium.js build without this hook keeps its own source.
  if (typeof host?.getRandomValue !== 'function') return;
  const pool = new Uint32Array(1024);
  let next = pool.length;
  host.getRandomValue = () => {
    if (next === pool.length) {
      globalThis.crypto.getRandomValues(pool);
      next = 0;
    }
    const word = pool[next]!;
    pool[next++] = 0; // handed out once; nothing of it stays behind
    return word;
  };
}

/** Resolves once libsodium's WebAssembly is loaded; every other crypto/ function needs it first. */
export async function ready(): Promise<Sodium> {
  await sodiumModule.ready;
  if (!initialized) drawRandomnessInBatches(sodiumModule);
  initialized = true;
  return sodiumModule;
}

/** The initialized libsodium; throws if `ready()` has not resolved yet (a programming error). */
export function sodium(): Sodium {
  if (!initialized) throw new Error('crypto: call and await ready() before using crypto/');
  return sodiumModule;
}
