import sodiumModule from 'libsodium-wrappers';

export type Sodium = typeof sodiumModule;

let initialized = false;

/** Resolves once libsodium's WebAssembly is loaded; every other crypto/ function needs it first. */
export async function ready(): Promise<Sodium> {
  await sodiumModule.ready;
  initialized = true;
  return sodiumModule;
}

/** The initialized libsodium; throws if `ready()` has not resolved yet (a programming error). */
export function sodium(): Sodium {
  if (!initialized) throw new Error('crypto: call and await ready() before using crypto/');
  return sodiumModule;
}
