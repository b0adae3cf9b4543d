/**
 * Attachment encryption with real libsodium: round trips at the edges of size buckets and
 * chunks, whatever sizes the pieces arrive in; the padded sizes the relay sees; and refusals of
 * a truncated blob, an altered one, a wrong key and a wrong digest, each before the last
 * plaintext chunk is released.
 */
import { randomFillSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ATTACHMENT_CHUNK_BYTES, CryptoError, attachmentCiphertextSize, createAttachmentSecrets, decryptAttachment, encryptAttachment,
  paddedAttachmentSize, ready, sodium, type AttachmentKeys,
} from '../../crypto/index.js';

await ready();

async function* pieces(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

/** Random bytes, filled by Node (libsodium's generator is drawn a word at a time). */
const noise = (size: number): Uint8Array => randomFillSync(new Uint8Array(size));

/** Byte equality without vitest's element-by-element diff, which takes seconds on large arrays. */
function expectSame(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

async function collect(stream: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const part of stream) parts.push(part);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

async function encrypted(plaintext: Uint8Array, pieceSize = 10_000): Promise<{ blob: Uint8Array; keys: AttachmentKeys }> {
  const secrets = createAttachmentSecrets();
  const ciphertext = encryptAttachment(pieces(plaintext, pieceSize), plaintext.length, secrets);
  const blob = await collect(ciphertext);
  return { blob, keys: { key: secrets.key, digest: ciphertext.digest(), size: plaintext.length } };
}

/** Decrypts, returning what was released before the refusal and the refusal's code. */
async function refusal(blob: AsyncIterable<Uint8Array>, keys: AttachmentKeys): Promise<{ code: string | undefined; released: number }> {
  let released = 0;
  try {
    for await (const part of decryptAttachment(blob, keys)) released += part.length;
  } catch (error) {
    return { code: error instanceof CryptoError ? error.code : String(error), released };
  }
  return { code: undefined, released };
}

describe('attachment padding', () => {
  it('pads to Signal\'s buckets: at least 541 bytes, then 1.05^k', () => {
    expect(paddedAttachmentSize(0)).toBe(541);
    expect(paddedAttachmentSize(1)).toBe(541);
    expect(paddedAttachmentSize(541)).toBe(541);
    expect(paddedAttachmentSize(542)).toBe(Math.floor(1.05 ** 130)); // 1.05^129 = 540.4…
    expect(paddedAttachmentSize(100 * 1024 * 1024)).toBeLessThan(100 * 1024 * 1024 * 1.05);
    for (let size = 0; size < 200_000; size += 997) {
      const bucket = paddedAttachmentSize(size);
      expect(bucket).toBeGreaterThanOrEqual(size);
      expect(paddedAttachmentSize(bucket)).toBe(bucket); // a bucket is its own bucket
      expect(bucket).toBeLessThanOrEqual(Math.max(541, Math.ceil(size * 1.05)));
    }
  });

  it('gives the blob length the relay is told, and the largest file fits under its 110 MiB cap', () => {
    const padded = paddedAttachmentSize(100_000);
    expect(attachmentCiphertextSize(100_000)).toBe(24 + padded + Math.ceil(padded / ATTACHMENT_CHUNK_BYTES) * 17);
    expect(attachmentCiphertextSize(100 * 1024 * 1024)).toBeLessThan(110 * 1024 * 1024);
    expect(() => paddedAttachmentSize(-1)).toThrow(CryptoError);
    expect(() => paddedAttachmentSize(1.5)).toThrow(CryptoError);
  });
});

describe('attachment encryption', () => {
  // Sizes at bucket and chunk edges: empty, the smallest bucket, one past it, a chunk exactly,
  // a bucket that is a whole number of chunks plus one byte, and several chunks.
  const sizes = [0, 1, 540, 541, 542, ATTACHMENT_CHUNK_BYTES - 1, ATTACHMENT_CHUNK_BYTES, ATTACHMENT_CHUNK_BYTES + 1, 3 * ATTACHMENT_CHUNK_BYTES + 5, 700_001];

  it.each(sizes)('round-trips %i bytes, streamed in odd-sized pieces', async (size) => {
    const plaintext = noise(size);
    const { blob, keys } = await encrypted(plaintext, 7_777);
    expect(blob.length).toBe(attachmentCiphertextSize(size));
    // The relay's bytes arrive in pieces of any size: one byte, or a whole blob.
    for (const pieceSize of [1_000_003, 4_093]) {
      expectSame(await collect(decryptAttachment(pieces(blob, pieceSize), keys)), plaintext);
    }
  });

  it('encrypts the same plaintext under the same secrets to the same blob (resumable uploads), and differently under fresh ones', async () => {
    const plaintext = noise(200_000);
    const secrets = createAttachmentSecrets();
    const first = await collect(encryptAttachment(pieces(plaintext, 5_000), plaintext.length, secrets));
    const again = await collect(encryptAttachment(pieces(plaintext, 60_000), plaintext.length, secrets));
    expectSame(again, first);
    const fresh = await collect(encryptAttachment(pieces(plaintext, 5_000), plaintext.length, createAttachmentSecrets()));
    expect(Buffer.compare(fresh, first)).not.toBe(0);
    expect(Buffer.from(first).includes(Buffer.from(plaintext.subarray(0, 32)))).toBe(false);
  });

  it('matches libsodium\'s own push stream for the same header (init_pull sets up the push state)', async () => {
    const s = sodium();
    const key = s.crypto_secretstream_xchacha20poly1305_keygen();
    const { state, header } = s.crypto_secretstream_xchacha20poly1305_init_push(key);
    const padded = new Uint8Array(541);
    padded.set([1, 2, 3]);
    const reference = s.crypto_secretstream_xchacha20poly1305_push(state, padded, null, s.crypto_secretstream_xchacha20poly1305_TAG_FINAL);
    const ours = await collect(encryptAttachment(pieces(new Uint8Array([1, 2, 3]), 3), 3, { key, header }));
    expectSame(ours, new Uint8Array([...header, ...reference]));
  });

  it('refuses a file that yields more or fewer bytes than announced', async () => {
    const plaintext = noise(1_000);
    for (const announced of [999, 1_001]) {
      const ciphertext = encryptAttachment(pieces(plaintext, 100), announced, createAttachmentSecrets());
      await expect(collect(ciphertext)).rejects.toMatchObject({ code: 'invalid_encoding' });
      expect(() => ciphertext.digest()).toThrow();
    }
  });
});

describe('attachment refusals', () => {
  const size = 3 * ATTACHMENT_CHUNK_BYTES + 100;
  const plaintext = noise(size);

  it('refuses a blob cut anywhere, including at a chunk boundary, without releasing its last chunk', async () => {
    const { blob, keys } = await encrypted(plaintext);
    const record = ATTACHMENT_CHUNK_BYTES + 17;
    for (const cut of [0, 10, 24, 24 + record, 24 + 2 * record + 5, blob.length - 1]) {
      const result = await refusal(pieces(blob.slice(0, cut), 50_000), keys);
      expect(result.code, `cut at ${cut}`).toBe('truncated');
      expect(result.released).toBeLessThan(size);
    }
  });

  it('refuses a stream whose last chunk lacks TAG_FINAL, and one with TAG_FINAL before its end', async () => {
    const s = sodium();
    const secrets = createAttachmentSecrets();
    const padded = paddedAttachmentSize(size);
    // Records of the right lengths, all valid under the key, tagged as the test chooses.
    const forge = (finalAt: number): Uint8Array[] => {
      const state = s.crypto_secretstream_xchacha20poly1305_init_pull(secrets.header, secrets.key);
      const records = [secrets.header];
      for (let i = 0, offset = 0; offset < padded; i++, offset += ATTACHMENT_CHUNK_BYTES) {
        const tag = i === finalAt ? s.crypto_secretstream_xchacha20poly1305_TAG_FINAL : s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
        records.push(s.crypto_secretstream_xchacha20poly1305_push(state, new Uint8Array(Math.min(ATTACHMENT_CHUNK_BYTES, padded - offset)), null, tag));
      }
      return records;
    };
    const keys = { key: secrets.key, digest: new Uint8Array(32), size };
    async function* from(records: Uint8Array[]): AsyncGenerator<Uint8Array> {
      yield* records;
    }
    expect((await refusal(from(forge(-1)), keys)).code).toBe('truncated');
    expect((await refusal(from(forge(1)), keys)).code).toBe('decrypt_failed');
  });

  it('refuses an altered byte, a wrong key, bytes after the end and a wrong digest', async () => {
    const { blob, keys } = await encrypted(plaintext);
    const altered = blob.slice();
    altered[24 + 2 * (ATTACHMENT_CHUNK_BYTES + 17) + 40]! ^= 1;
    expect((await refusal(pieces(altered, 65_536), keys)).code).toBe('decrypt_failed');
    const wrongKey = { ...keys, key: createAttachmentSecrets().key };
    expect(await refusal(pieces(blob, 65_536), wrongKey)).toEqual({ code: 'decrypt_failed', released: 0 });
    expect((await refusal(pieces(new Uint8Array([...blob, 0]), 65_536), keys)).code).toBe('decrypt_failed');

    const wrongDigest = { ...keys, digest: keys.digest.map((b, i) => (i === 0 ? b ^ 1 : b)) };
    const result = await refusal(pieces(blob, 65_536), wrongDigest);
    expect(result.code).toBe('digest_mismatch');
    // Everything but the last chunk holding file bytes may have been released, never all of it.
    expect(result.released).toBe(3 * ATTACHMENT_CHUNK_BYTES);
  });

  it('holds back the last file bytes even when the chunks after them are only padding', async () => {
    // A file of whole chunks whose bucket adds at least one more chunk of zeros.
    let fileSize = 2 * ATTACHMENT_CHUNK_BYTES;
    while (paddedAttachmentSize(fileSize) === fileSize) fileSize += ATTACHMENT_CHUNK_BYTES;
    const file = noise(fileSize);
    const { blob, keys } = await encrypted(file);
    const result = await refusal(pieces(blob, 65_536), { ...keys, digest: new Uint8Array(32) });
    expect(result).toEqual({ code: 'digest_mismatch', released: fileSize - ATTACHMENT_CHUNK_BYTES });
    expectSame(await collect(decryptAttachment(pieces(blob, 65_536), keys)), file);
  });
});
