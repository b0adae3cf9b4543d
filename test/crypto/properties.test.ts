/**
 * Property tests (fast-check) of the session layer: delivery in any order within the skip
 * window with drops and replays, bit flips anywhere, forward secrecy and post-compromise
 * security. Runs are bounded so the suite stays fast.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Session } from '../../crypto/index.js';
import {
  CryptoError, acceptSession, decrypt, deriveChainKeysForTest, deserializeSession, encrypt, initiateSession, openEnvelope,
  ready, sealEnvelope, serializeSession, deviceIdOf, tryOpenWithSeed as tryOpen,
} from './internals.js';
import { bundleOf, makeParty, text, untext } from './helpers.js';

await ready();

function pair(oneTime = true) {
  const alice = makeParty();
  const bob = makeParty();
  const a = initiateSession(alice.local, bundleOf(bob, oneTime ? 1 : undefined));
  const first = encrypt(a, text('hello'));
  const { session: b } = acceptSession(bob.local, alice.local.device.publicKey, first, bob.prekeys);
  return { alice, bob, a, b };
}

function expectCleanFailure(session: Session, attempt: () => unknown): string {
  const before = serializeSession(session);
  let code = '';
  try {
    attempt();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    code = (error as CryptoError).code;
  }
  expect(code).not.toBe('');
  expect(serializeSession(session)).toEqual(before);
  return code;
}

type Side = 'a' | 'b';
interface InFlight { bytes: Uint8Array; plaintext: string }
const op = fc.record({
  kind: fc.constantFrom('send', 'send', 'deliver', 'deliver', 'drop', 'replay', 'persist'),
  from: fc.constantFrom<Side>('a', 'b'),
  pick: fc.nat(),
});

describe('any interleaving', () => {
  it('decrypts every delivered message exactly once, to the right plaintext; replays fail; drops are harmless', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.boolean(), (ops, oneTime) => {
        const sessions: Record<Side, Session> = (({ a, b }) => ({ a, b }))(pair(oneTime));
        const inFlight: Record<Side, InFlight[]> = { a: [], b: [] }; // messages sent BY side
        const delivered: Record<Side, InFlight[]> = { a: [], b: [] };
        let counter = 0;
        for (const { kind, from, pick } of ops) {
          const to: Side = from === 'a' ? 'b' : 'a';
          const queue = inFlight[from];
          if (kind === 'send') {
            const plaintext = `${from}:${counter++}`;
            queue.push({ bytes: encrypt(sessions[from], text(plaintext)), plaintext });
          } else if (kind === 'deliver' && queue.length > 0) {
            const [message] = queue.splice(pick % queue.length, 1) as [InFlight];
            expect(untext(decrypt(sessions[to], message.bytes))).toBe(message.plaintext);
            delivered[from].push(message);
          } else if (kind === 'drop' && queue.length > 0) {
            queue.splice(pick % queue.length, 1);
          } else if (kind === 'replay' && delivered[from].length > 0) {
            const message = delivered[from][pick % delivered[from].length] as InFlight;
            expect(expectCleanFailure(sessions[to], () => decrypt(sessions[to], message.bytes))).toBe('replay');
          } else if (kind === 'persist') {
            sessions[from] = deserializeSession(serializeSession(sessions[from]));
          }
        }
        // Whatever is still in flight decrypts now, in any order.
        for (const from of ['a', 'b'] as const) {
          const to: Side = from === 'a' ? 'b' : 'a';
          for (const message of inFlight[from].reverse()) expect(untext(decrypt(sessions[to], message.bytes))).toBe(message.plaintext);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('tampering', () => {
  it('a flipped bit anywhere in header or body fails cleanly and leaves the session usable', () => {
    fc.assert(
      fc.property(fc.nat(), fc.boolean(), fc.string({ maxLength: 40 }), (bitSeed, replied, content) => {
        const { a, b } = pair();
        if (replied) decrypt(a, encrypt(b, text('reply'))); // then a's messages are plain, not prekey
        const message = encrypt(a, text(content));
        const bit = bitSeed % (message.length * 8);
        const bad = Uint8Array.from(message);
        bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
        expectCleanFailure(b, () => decrypt(b, bad));
        expect(untext(decrypt(b, message))).toBe(content);
      }),
      { numRuns: 150 },
    );
  });

  it('a flipped bit in a first (prekey) message makes acceptSession fail with a CryptoError', () => {
    fc.assert(
      fc.property(fc.nat(), (bitSeed) => {
        const alice = makeParty();
        const bob = makeParty();
        const first = encrypt(initiateSession(alice.local, bundleOf(bob, 2)), text('first'));
        const bit = bitSeed % (first.length * 8);
        const bad = Uint8Array.from(first);
        bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
        expect(() => acceptSession(bob.local, alice.local.device.publicKey, bad, bob.prekeys)).toThrow(CryptoError);
        expect(untext(acceptSession(bob.local, alice.local.device.publicKey, first, bob.prekeys).plaintext)).toBe('first');
      }),
      { numRuns: 100 },
    );
  });

  it('a flipped bit in the seal fails cleanly', () => {
    const { alice, bob, a } = pair();
    const body = sealEnvelope({ senderHandle: 'alice', senderDeviceId: deviceIdOf(alice.local.device.publicKey), message: encrypt(a, text('x')) }, bob.local.device.publicKey);
    fc.assert(
      fc.property(fc.nat(), (bitSeed) => {
        const bit = bitSeed % (body.length * 8);
        const bad = Uint8Array.from(body);
        bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
        expect(() => openEnvelope(bad, bob.local.device)).toThrow(CryptoError);
      }),
      { numRuns: 100 },
    );
  });
});

/** Every 32-byte window of the state, tried as a message-key seed and as a chain key. */
function stateOpens(state: Uint8Array, session: Session, message: Uint8Array): boolean {
  for (let offset = 0; offset + 32 <= state.length; offset++) {
    const window = state.slice(offset, offset + 32);
    for (const seed of [window, deriveChainKeysForTest(window).seed]) {
      if (tryOpen(session, seed, message)) return true;
    }
  }
  return false;
}

describe('forward secrecy', () => {
  it('after decrypting, the serialized state holds no key that opens the message again', () => {
    const { a, b } = pair();
    const m0 = encrypt(a, text('zero'));
    const m1 = encrypt(a, text('one'));
    const m2 = encrypt(a, text('two'));
    decrypt(b, m2); // m0 and m1 become skipped keys held in the state
    expect(stateOpens(serializeSession(b), b, m0)).toBe(true); // positive control: the scan finds a held key
    expect(untext(decrypt(b, m0))).toBe('zero');
    const after = serializeSession(b);
    expect(stateOpens(after, b, m0)).toBe(false);
    expect(stateOpens(after, b, m2)).toBe(false);
    expect(stateOpens(after, b, m1)).toBe(true); // still pending, so still held
    expect(untext(decrypt(b, m1))).toBe('one');
    expect(stateOpens(serializeSession(b), b, m1)).toBe(false);
    const restored = deserializeSession(after);
    expect(() => decrypt(restored, m0)).toThrow(CryptoError);
  });
});

describe('post-compromise security', () => {
  it('(control) without the round trip, the stolen state still reads the current chain', () => {
    const { a, b } = pair();
    decrypt(a, encrypt(b, text('warm up')));
    const stolen = serializeSession(b);
    const next = encrypt(a, text('not healed yet'));
    expect(untext(decrypt(deserializeSession(stolen), next))).toBe('not healed yet');
  });

  it('after one DH-ratchet round trip, a stolen state cannot decrypt new messages', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), (extra) => {
        const { a, b } = pair();
        decrypt(a, encrypt(b, text('warm up')));
        const stolen = serializeSession(b); // the attacker copies Bob's whole state
        // One DH-ratchet round trip: Alice's message makes Bob draw a new ratchet key pair (which
        // the attacker never sees), Bob's reply carries it to Alice, Alice's next message uses it.
        for (let i = 0; i <= extra; i++) decrypt(b, encrypt(a, text(`alice ${i}`)));
        decrypt(a, encrypt(b, text('bob ratchets')));
        const fresh = encrypt(a, text('after healing'));
        expect(() => decrypt(deserializeSession(stolen), fresh)).toThrow(CryptoError);
        expect(untext(decrypt(b, fresh))).toBe('after healing');
      }),
      { numRuns: 50 },
    );
  });
});
