/**
 * Session hygiene in the crypto core (protocol v2): a first message is never accepted twice
 * (however old, with or without a one-time prekey); a rolled-back or duplicated state never
 * encrypts two messages under one (key, nonce); a forged message is refused on its header tag,
 * before any ratchet work, and leaves the session as it was. Fast-check properties cover
 * replays of first messages and state rollback.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../crypto/message-format.js';
import type { PrekeySource, Session } from '../../crypto/index.js';
import {
  CryptoError, acceptSession, decrypt, deserializeSession, encrypt, initiateSession, padContent, prekeyBaseKey, ready,
  serializeSession, toBase64Url,
} from '../../crypto/index.js';
import { bundleOf, makeParty, text, type Party } from './helpers.js';

await ready();

/** A receiver's prekeys plus its record of accepted base keys, as the SDK keeps them. */
function recordingSource(party: Party): PrekeySource & { accept(message: Uint8Array): void } {
  const accepted = new Set<string>();
  return {
    ...party.prekeys,
    acceptedBaseKey: (baseKey) => accepted.has(toBase64Url(baseKey)),
    accept: (message) => void accepted.add(toBase64Url(prekeyBaseKey(message)!)),
  };
}

function codeOf(attempt: () => unknown): string {
  try {
    attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return (error as CryptoError).code;
  }
  return '';
}

function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  return a.map((byte, i) => byte ^ (b[i] ?? 0));
}

describe('first messages', () => {
  it('a replayed first message is refused, after any conversation, with or without a one-time prekey', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.constantFrom('a', 'b'), { maxLength: 80 }), (oneTime, turns) => {
        const alice = makeParty();
        const bob = makeParty();
        const source = recordingSource(bob);
        const a = initiateSession(alice.local, bundleOf(bob, oneTime ? 1 : undefined));
        const first = encrypt(a, text('first'));
        const { session: b } = acceptSession(bob.local, alice.local.device.publicKey, first, source);
        source.accept(first);
        // Any conversation afterwards (up to 80 turns, so the first ratchet key leaves the window).
        for (const turn of turns) {
          if (turn === 'a') decrypt(b, encrypt(a, text('a')));
          else decrypt(a, encrypt(b, text('b')));
        }
        const before = serializeSession(b);
        expect(codeOf(() => acceptSession(bob.local, alice.local.device.publicKey, first, source))).toBe('replay');
        expect(['replay', 'decrypt_failed']).toContain(codeOf(() => decrypt(b, first)));
        expect(serializeSession(b)).toEqual(before);
      }),
      { numRuns: 40 },
    );
  });
});

describe('rolled-back or duplicated states', () => {
  it('never encrypt two messages under one (key, nonce): no two-time pad', () => {
    fc.assert(
      fc.property(fc.nat({ max: 5 }), fc.nat({ max: 5 }), (before, after) => {
        const alice = makeParty();
        const bob = makeParty();
        const a = initiateSession(alice.local, bundleOf(bob, 1));
        for (let i = 0; i < before; i++) encrypt(a, text(`warm-up ${i}`));
        const saved = serializeSession(a);
        const original: Uint8Array[] = [];
        for (let i = 0; i <= after; i++) original.push(encrypt(a, text(`original ${i}`)));
        const restored: Session = deserializeSession(saved); // a restored backup, or a second tab
        for (let i = 0; i <= after; i++) {
          const again = encrypt(restored, text(`different ${i}`));
          const m1 = parseMessage(original[i]!);
          const m2 = parseMessage(again);
          expect(m2.index).toBe(m1.index); // the same chain position …
          expect(toBase64Url(m2.nonce)).not.toBe(toBase64Url(m1.nonce)); // … never the same nonce …
          // … and never a keystream shared with the original: XOR of ciphertexts is not XOR of plaintexts.
          const plainXor = xor(padContent(text(`original ${i}`)), padContent(text(`different ${i}`)));
          const cipherXor = xor(m1.ciphertext.slice(16), m2.ciphertext.slice(16));
          expect(toBase64Url(cipherXor)).not.toBe(toBase64Url(plainXor));
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('forged messages', () => {
  it('are refused on the header tag, far ahead of the chain or not, and change nothing', () => {
    const alice = makeParty();
    const bob = makeParty();
    const a = initiateSession(alice.local, bundleOf(bob, 1));
    const { session: b } = acceptSession(bob.local, alice.local.device.publicKey, encrypt(a, text('hi')), bob.prekeys);
    decrypt(a, encrypt(b, text('reply')));
    const genuine = encrypt(a, text('genuine'));
    const m = parseMessage(genuine);
    const before = serializeSession(b);
    // A forger who knows the layout but not the session: a new ratchet key, N = 999 (a genuine
    // header like this would cost a DH step and 999 key derivations), a made-up tag.
    const forged = Uint8Array.from(genuine);
    const ratchetAt = m.header.length - 24 - 8 - 32;
    forged.set(new Uint8Array(32).fill(9), ratchetAt);
    forged.set([0, 0, 3, 231], ratchetAt + 36);
    expect(codeOf(() => decrypt(b, forged))).toBe('decrypt_failed');
    expect(serializeSession(b)).toEqual(before);
    // One flipped bit in the tag alone is enough to refuse the genuine message …
    const badTag = Uint8Array.from(genuine);
    badTag[m.header.length] = (badTag[m.header.length] ?? 0) ^ 1;
    expect(codeOf(() => decrypt(b, badTag))).toBe('decrypt_failed');
    expect(serializeSession(b)).toEqual(before);
    // … which then still decrypts.
    expect(new TextDecoder().decode(decrypt(b, genuine))).toBe('genuine');
  });
});
