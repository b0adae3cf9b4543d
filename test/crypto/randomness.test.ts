/** libsodium's randomness comes from the platform CSPRNG in batches (crypto/sodium.ts). */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ready, sodium } from '../../crypto/index.js';

beforeAll(async () => {
  await ready();
});
afterEach(() => vi.restoreAllMocks());

describe('libsodium randomness', () => {
  it('draws from crypto.getRandomValues, 4 KiB at a time', () => {
    const draws = vi.spyOn(globalThis.crypto, 'getRandomValues');
    // 201 key pairs (one inside each seal) ask for 32 random bytes each, one 4-byte word per
    // byte: 6,432 words, so 7 refills of 1,024 words, not 6,432 asks of the CSPRNG.
    const recipient = sodium().crypto_box_keypair();
    for (let i = 0; i < 100; i++) {
      sodium().crypto_box_keypair();
      sodium().crypto_box_seal(new Uint8Array(16), recipient.publicKey);
    }
    expect(draws.mock.calls.length).toBeGreaterThanOrEqual(6);
    expect(draws.mock.calls.length).toBeLessThanOrEqual(7);
  });

  it('never hands out the same bytes twice', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(sodium().to_hex(sodium().randombytes_buf(16)));
    expect(seen.size).toBe(5000);
    const keys = Array.from({ length: 300 }, () => sodium().to_hex(sodium().crypto_box_keypair().privateKey));
    expect(new Set(keys).size).toBe(300);
  });
});
