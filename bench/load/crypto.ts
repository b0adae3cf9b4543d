/**
 * Scenario (e): the client's own cost per 1 KiB message with the real protocol code —
 * ratchet encrypt (with padding), seal to the recipient device, open, ratchet decrypt — in one
 * process, no relay. Two shapes: a conversation that alternates direction (a DH ratchet step
 * on every turn, as in chat) and a one-way burst (symmetric chain steps only).
 */
import { randomBytes } from 'node:crypto';
import {
  acceptSession,
  decrypt,
  deviceIdOf,
  encrypt,
  generateDhKeyPair,
  generateSigningKeyPair,
  initiateSession,
  openEnvelope,
  sealEnvelope,
  type LocalIdentity,
  type Session,
} from '../../crypto/index.js';
import type { BenchConfig } from '../config.js';
import type { LoadResult } from '../ipc.js';
import { BenchError } from './driver.js';
import { cpuPercent } from './phase.js';

interface Party {
  handle: string;
  local: LocalIdentity;
  session?: Session;
}

function transfer(from: Party, to: Party, plaintext: Uint8Array): void {
  if (from.session === undefined || to.session === undefined) throw new BenchError('crypto bench: sessions not set up');
  const message = encrypt(from.session, plaintext);
  const body = sealEnvelope({ senderHandle: from.handle, senderDeviceId: deviceIdOf(from.local.device.publicKey), message }, to.local.device.publicKey);
  const opened = openEnvelope(body, to.local.device);
  const out = decrypt(to.session, opened.message);
  if (out.length !== plaintext.length) throw new BenchError('crypto bench: round trip changed the message');
}

function setUp(): { alice: Party; bob: Party } {
  // Only the authority's public key takes part in a session (protocol v2).
  const alice: Party = { handle: 'alice', local: { identityKey: generateSigningKeyPair().publicKey, device: generateSigningKeyPair() } };
  const bob: Party = { handle: 'bob', local: { identityKey: generateSigningKeyPair().publicKey, device: generateSigningKeyPair() } };
  const signedPrekey = generateDhKeyPair();
  alice.session = initiateSession(alice.local, {
    identityKey: bob.local.identityKey,
    devicePublicKey: bob.local.device.publicKey,
    signedPrekey: { keyId: 1, publicKey: signedPrekey.publicKey },
  });
  const first = encrypt(alice.session, new Uint8Array([1]));
  bob.session = acceptSession(bob.local, alice.local.device.publicKey, first, {
    signedPrekey: (id) => (id === 1 ? signedPrekey : undefined),
    oneTimePrekey: () => undefined,
  }).session;
  return { alice, bob };
}

function measure(seconds: number, maxOps: number, step: (i: number) => void): { ops: number; seconds: number } {
  const start = performance.now();
  const until = start + seconds * 1000;
  let ops = 0;
  // Check the clock every 16 operations: cheap, and still ends within a few ms of the deadline.
  while (ops < maxOps && (ops % 16 !== 0 || performance.now() < until)) step(ops++);
  return { ops, seconds: (performance.now() - start) / 1000 };
}

export async function runCrypto(params: BenchConfig['crypto'], bodyBytes: number): Promise<LoadResult> {
  const plaintext = new Uint8Array(randomBytes(bodyBytes));
  const cpuStart = process.cpuUsage();
  const chat = setUp();
  const alternating = measure(params.seconds, params.maxOps, (i) => (i % 2 === 0 ? transfer(chat.alice, chat.bob, plaintext) : transfer(chat.bob, chat.alice, plaintext)));
  const burst = setUp();
  transfer(burst.bob, burst.alice, plaintext); // Bob answers once so Alice drops the prekey header.
  const oneWay = measure(params.seconds, params.maxOps, () => transfer(burst.alice, burst.bob, plaintext));
  const seconds = alternating.seconds + oneWay.seconds;
  return {
    completed: alternating.ops,
    seconds: alternating.seconds,
    msgPerSec: alternating.ops / alternating.seconds,
    oneWayPerSec: oneWay.ops / oneWay.seconds,
    errors: 0,
    loadCpuPct: cpuPercent(cpuStart, seconds),
  };
}
