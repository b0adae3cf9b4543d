/**
 * Attachment encryption (docs/PROTOCOL.md §22): a file is padded to a size bucket, encrypted
 * with libsodium's `crypto_secretstream_xchacha20poly1305` in 64 KiB plaintext chunks under a
 * fresh key, and the ciphertext's BLAKE2b-256 digest goes into the pointer with the key and the
 * true size. Both directions stream (async iterables in and out), so a 100 MiB file is never
 * whole in memory: at most one chunk of each side is.
 *
 * Why each part:
 * - secretstream: every chunk is authenticated and numbered, and only the last carries
 *   TAG_FINAL, so a relay can neither reorder, drop, nor cut the stream unnoticed.
 * - padding to Signal's buckets (1.05^k, at least 541 bytes): the relay stores only a bucket,
 *   which leaks about 5 % of the size instead of the size itself.
 * - the digest: the receiver checks it before releasing the last plaintext chunk, so what it
 *   keeps is exactly the blob the sender uploaded. BLAKE2b rather than SHA-256 because
 *   libsodium-wrappers' standard build has no streaming SHA-256 at run time (its typings
 *   declare `crypto_hash_sha256_*`, the module lacks them); BLAKE2b is the hash of the rest of
 *   the protocol.
 *
 * The stream header (24 bytes, the stream's nonce) is chosen by the caller together with the
 * key (`createAttachmentSecrets`): the same secrets and plaintext give the same ciphertext, which
 * lets an interrupted upload be resumed by encrypting again and skipping what the relay has, and
 * lets the test vectors fix it. Never encrypt two different plaintexts under one pair of secrets.
 */
import { CryptoError } from './errors.js';
import { equalBytes } from './encoding.js';
import { sodium } from './sodium.js';

export const ATTACHMENT_KEY_BYTES = 32;
export const ATTACHMENT_HEADER_BYTES = 24;
export const ATTACHMENT_DIGEST_BYTES = 32;
/** Plaintext bytes per secretstream message. */
export const ATTACHMENT_CHUNK_BYTES = 64 * 1024;
/** Per-chunk overhead of secretstream (tag byte + Poly1305 MAC). */
const CHUNK_OVERHEAD = 17;
/** Signal's smallest bucket: every file up to 541 bytes looks the same. */
const MIN_BUCKET = 541;
const BUCKET_GROWTH = 1.05;

/** The per-file secrets: a fresh key (it goes into the pointer) and the stream header (it starts the blob). */
export interface AttachmentSecrets {
  key: Uint8Array;
  header: Uint8Array;
}

/** What a receiver needs from the pointer to decrypt and check a blob. */
export interface AttachmentKeys {
  key: Uint8Array;
  digest: Uint8Array;
  /** The plaintext's true size in bytes (the padding is stripped to it). */
  size: number;
}

/** Ciphertext chunks; `digest()` is the digest of every byte yielded, once the iteration has finished. */
export interface AttachmentCiphertext extends AsyncIterable<Uint8Array> {
  digest(): Uint8Array;
}

export function createAttachmentSecrets(): AttachmentSecrets {
  const s = sodium();
  return { key: s.crypto_secretstream_xchacha20poly1305_keygen(), header: s.randombytes_buf(ATTACHMENT_HEADER_BYTES) };
}

/**
 * The padded plaintext size for a file of `size` bytes: max(541, floor(1.05^ceil(log(size) /
 * log(1.05)))) in IEEE-754 doubles. Where rounding puts that bucket below `size`, the next
 * exponent is taken, so a bucket always holds its file.
 */
export function paddedAttachmentSize(size: number): number {
  requireSize(size);
  if (size <= MIN_BUCKET) return MIN_BUCKET;
  let exponent = Math.ceil(Math.log(size) / Math.log(BUCKET_GROWTH));
  while (Math.floor(BUCKET_GROWTH ** exponent) < size) exponent++;
  return Math.max(MIN_BUCKET, Math.floor(BUCKET_GROWTH ** exponent));
}

/** The blob's length for a file of `size` bytes: header + padded plaintext + 17 bytes per chunk. */
export function attachmentCiphertextSize(size: number): number {
  const padded = paddedAttachmentSize(size);
  return ATTACHMENT_HEADER_BYTES + padded + Math.ceil(padded / ATTACHMENT_CHUNK_BYTES) * CHUNK_OVERHEAD;
}

/**
 * Encrypts `plaintext`, which must yield exactly `size` bytes (else `invalid_encoding`: the file
 * changed while it was read). The first chunk yielded is the 24-byte header.
 */
export function encryptAttachment(plaintext: AsyncIterable<Uint8Array>, size: number, secrets: AttachmentSecrets): AttachmentCiphertext {
  const padded = paddedAttachmentSize(size);
  if (secrets.key.length !== ATTACHMENT_KEY_BYTES || secrets.header.length !== ATTACHMENT_HEADER_BYTES) {
    throw new CryptoError('invalid_key', 'an attachment key is 32 bytes and its header 24');
  }
  let digest: Uint8Array | undefined;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    const s = sodium();
    const hash = s.crypto_generichash_init(null, ATTACHMENT_DIGEST_BYTES);
    // init_pull with the chosen header derives the very state init_push would have made for it
    // (libsodium sets both up the same way); init_push cannot take a header of ours.
    const state = s.crypto_secretstream_xchacha20poly1305_init_pull(secrets.header, secrets.key);
    s.crypto_generichash_update(hash, secrets.header);
    yield secrets.header;
    const reader = new ChunkReader(withPadding(plaintext, size, padded));
    for (let offset = 0; offset < padded; offset += ATTACHMENT_CHUNK_BYTES) {
      const chunk = await reader.read(Math.min(ATTACHMENT_CHUNK_BYTES, padded - offset));
      const last = offset + ATTACHMENT_CHUNK_BYTES >= padded;
      const tag = last ? s.crypto_secretstream_xchacha20poly1305_TAG_FINAL : s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
      const record = s.crypto_secretstream_xchacha20poly1305_push(state, chunk, null, tag);
      s.crypto_generichash_update(hash, record);
      yield record;
    }
    digest = s.crypto_generichash_final(hash, ATTACHMENT_DIGEST_BYTES);
  }
  return {
    [Symbol.asyncIterator]: () => chunks(),
    digest() {
      if (!digest) throw new Error('crypto: the attachment digest is known only once every chunk was read');
      return digest;
    },
  };
}

/**
 * Decrypts a blob as it arrives, yielding the file's `size` bytes. Refused with a CryptoError:
 * `truncated` (the blob ends early, or its last chunk lacks TAG_FINAL), `decrypt_failed` (a wrong
 * key, an altered chunk, or bytes after the final chunk) and `digest_mismatch` (a blob that
 * decrypts but is not the one the pointer names). The last plaintext chunk is released only once
 * the digest matched.
 */
export async function* decryptAttachment(ciphertext: AsyncIterable<Uint8Array>, keys: AttachmentKeys): AsyncGenerator<Uint8Array> {
  const s = sodium();
  const padded = paddedAttachmentSize(keys.size);
  if (keys.key.length !== ATTACHMENT_KEY_BYTES) throw new CryptoError('invalid_key', 'an attachment key is 32 bytes');
  const reader = new ChunkReader(ciphertext);
  const hash = s.crypto_generichash_init(null, ATTACHMENT_DIGEST_BYTES);
  const header = await reader.read(ATTACHMENT_HEADER_BYTES);
  if (header.length < ATTACHMENT_HEADER_BYTES) throw new CryptoError('truncated', 'the attachment ends before its header');
  s.crypto_generichash_update(hash, header);
  const state = s.crypto_secretstream_xchacha20poly1305_init_pull(header, keys.key);
  let held: Uint8Array | undefined;
  for (let offset = 0; offset < padded; offset += ATTACHMENT_CHUNK_BYTES) {
    const plainLength = Math.min(ATTACHMENT_CHUNK_BYTES, padded - offset);
    const record = await reader.read(plainLength + CHUNK_OVERHEAD);
    if (record.length < plainLength + CHUNK_OVERHEAD) throw new CryptoError('truncated', 'the attachment ends early');
    s.crypto_generichash_update(hash, record);
    const opened = s.crypto_secretstream_xchacha20poly1305_pull(state, record, null);
    if (opened === false) throw new CryptoError('decrypt_failed', 'an attachment chunk does not decrypt: a wrong key or altered data');
    const last = offset + plainLength >= padded;
    if (last !== (opened.tag === s.crypto_secretstream_xchacha20poly1305_TAG_FINAL)) {
      throw last ? new CryptoError('truncated', 'the attachment has no final chunk') : new CryptoError('decrypt_failed', 'the attachment ends before its announced size');
    }
    // Padding is stripped: only bytes below the true size are released.
    const kept = opened.message.subarray(0, Math.max(0, Math.min(plainLength, keys.size - offset)));
    // The last chunk that holds file bytes waits for the digest (chunks of padding hold none).
    if (kept.length > 0) {
      if (held) yield held;
      held = kept;
    }
  }
  if ((await reader.read(1)).length > 0) throw new CryptoError('decrypt_failed', 'data after the final attachment chunk');
  if (!equalBytes(s.crypto_generichash_final(hash, ATTACHMENT_DIGEST_BYTES), keys.digest)) {
    throw new CryptoError('digest_mismatch', 'the attachment is not the one its pointer names');
  }
  if (held) yield held;
}

function requireSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new CryptoError('invalid_encoding', 'an attachment size is a non-negative integer');
}

/** The plaintext, checked to be `size` bytes, then zeros up to `padded`. */
async function* withPadding(plaintext: AsyncIterable<Uint8Array>, size: number, padded: number): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const piece of plaintext) {
    seen += piece.length;
    if (seen > size) break;
    yield piece;
  }
  if (seen !== size) throw new CryptoError('invalid_encoding', `the file gave ${seen > size ? 'more' : 'fewer'} bytes than its announced size ${size}`);
  for (let rest = padded - size; rest > 0; rest -= ATTACHMENT_CHUNK_BYTES) yield new Uint8Array(Math.min(rest, ATTACHMENT_CHUNK_BYTES));
}

/** Regroups a stream of pieces of any size into reads of exactly n bytes (fewer only at its end). */
class ChunkReader {
  private readonly source: AsyncIterator<Uint8Array>;
  private pending: Uint8Array = new Uint8Array(0);
  private done = false;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.source = source[Symbol.asyncIterator]();
  }

  async read(n: number): Promise<Uint8Array> {
    if (this.pending.length >= n) return this.take(n);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (this.pending.length === 0) {
        if (this.done) break;
        const next = await this.source.next();
        if (next.done) {
          this.done = true;
          break;
        }
        this.pending = next.value;
        continue;
      }
      const part = this.take(Math.min(n - filled, this.pending.length));
      out.set(part, filled);
      filled += part.length;
    }
    return filled === n ? out : out.slice(0, filled);
  }

  private take(n: number): Uint8Array {
    const part = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return part;
  }
}
