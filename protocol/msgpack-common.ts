/** What the msgpack decoder (msgpack.ts) and encoder (msgpack-encode.ts) share. */

/** Node's Buffer when there is one (its UTF-8 routines are faster); the browser build has none. */
export const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
/** Deepest nesting either way: deeper is refused instead of overflowing the stack. */
export const MAX_DEPTH = 64;

export class MsgpackError extends Error {}
