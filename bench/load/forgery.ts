/**
 * Scenario (g): what a forged envelope costs the device it is sent to — the worst an outsider
 * can produce — in one process, no relay. Bob's device holds 4 sessions with alice's device
 * (the SDK keeps at most 4 per remote device), each built by X3DH and used a few messages each
 * way. A forged envelope is correctly sealed to bob's device and names alice's device as its
 * sender (anyone can: the seal does not authenticate the sender), but its session message is
 * made up: a well-formed header with a fresh random ratchet key, N = 999, a random nonce,
 * header tag and ciphertext. Two kinds:
 * - a plain ratchet message: every stored session is tried and drops it at the header tag;
 * - a prekey message (a random base key, bob's real signed prekey id, no one-time prekey): the
 *   stored sessions refuse it (another base key), then acceptSession runs the X3DH key
 *   agreements before the header tag drops it.
 * Timed per envelope: exactly the SDK's receive steps before the rejection is recorded
 * (receiver.ts openIncoming: the device key from its record, openEnvelope, Sessions.decrypt on
 * a batch — each session deserialized from the store as the SDK does), without the store write
 * that remembers the refused envelope id. For scale: one genuine 1 KiB message through the same
 * steps, decrypting in the active session. Each envelope is timed in CPU time of this process
 * (the figure the targets use: what it costs, however busy the machine is) and in wall-clock time.
 */
import { randomBytes } from 'node:crypto';
import {
  CryptoError,
  concatBytes,
  decrypt,
  deviceIdOf,
  encrypt,
  generateDhKeyPair,
  generateSigningKeyPair,
  initiateSession,
  openEnvelope,
  sealEnvelope,
  toBase64Url,
  utf8,
  type LocalIdentity,
  type Session,
} from '../../crypto/index.js';
import { encodeHeader, encodePrekeyHeader } from '../../crypto/message-format.js';
import { keyPairOf, keyPairRecord } from '../../client/sdk/local-identity.js';
import { RelayHttp } from '../../client/sdk/relay-http.js';
import { Sessions } from '../../client/sdk/sessions.js';
import { LocalStore } from '../../client/sdk/store/local-store.js';
import { MemoryPersistence } from '../../client/sdk/store/persistence.js';
import type { BenchConfig } from '../config.js';
import type { LoadResult } from '../ipc.js';
import { percentile } from '../stats.js';
import { BenchError } from './driver.js';
import { cpuPercent } from './phase.js';

const SIGNED_PREKEY_ID = 1;
/** A 1 KiB text's content, padded (256-byte buckets), plus the secretbox tag. */
const FORGED_CIPHERTEXT_BYTES = 16 + 1280;
const WARMUP = 50;

interface Bob {
  store: LocalStore;
  sessions: Sessions;
  deviceRecord: ReturnType<typeof keyPairRecord>;
  devicePublicKey: Uint8Array;
}

interface Alice {
  handle: string;
  deviceId: string;
  local: LocalIdentity;
  /** Alice's side of the newest session (the one bob keeps first). */
  session?: Session;
}

async function setUp(sessionCount: number): Promise<{ alice: Alice; bob: Bob }> {
  const aliceDevice = generateSigningKeyPair();
  const alice: Alice = {
    handle: 'alice',
    deviceId: deviceIdOf(aliceDevice.publicKey),
    local: { identityKey: generateSigningKeyPair().publicKey, device: aliceDevice },
  };
  const bobLocal: LocalIdentity = { identityKey: generateSigningKeyPair().publicKey, device: generateSigningKeyPair() };
  const signedPrekey = generateDhKeyPair();
  const store = await LocalStore.open(new MemoryPersistence());
  await store.commit([
    {
      collection: 'signedPrekeys',
      key: String(SIGNED_PREKEY_ID),
      value: { keyId: SIGNED_PREKEY_ID, ...keyPairRecord(signedPrekey), signature: '', createdAt: Date.now() },
    },
  ]);
  // Decrypt never talks to the relay; the HTTP client is there because the class wants one.
  const sessions = new Sessions(store, new RelayHttp('http://127.0.0.1:9'), () => bobLocal, () => {
    throw new BenchError('forgery bench: no relay requests');
  });
  const bob: Bob = { store, sessions, deviceRecord: keyPairRecord(bobLocal.device), devicePublicKey: bobLocal.device.publicKey };
  const remoteAlice = { handle: alice.handle, deviceId: alice.deviceId, identityKey: toBase64Url(alice.local.identityKey) };
  const text = utf8('hello');

  const toBob = async (message: Uint8Array): Promise<void> => {
    const batch = store.batch();
    const opened = openEnvelope(sealEnvelope({ senderHandle: alice.handle, senderDeviceId: alice.deviceId, message }, bob.devicePublicKey), keyPairOf(bob.deviceRecord));
    sessions.decrypt(batch, opened.senderHandle, opened.senderDeviceId, opened.message);
    await batch.commit();
  };
  for (let i = 0; i < sessionCount; i++) {
    // Alice starts a new session (a reinstall, or both sides starting at once); bob accepts it
    // through the SDK's Sessions, which keeps it first and the older ones behind it.
    const session = initiateSession(alice.local, {
      identityKey: bobLocal.identityKey,
      devicePublicKey: bobLocal.device.publicKey,
      signedPrekey: { keyId: SIGNED_PREKEY_ID, publicKey: signedPrekey.publicKey },
    });
    for (let turn = 0; turn < 3; turn++) {
      await toBob(encrypt(session, text));
      if (turn === 2) break;
      const batch = store.batch();
      const reply = await sessions.encrypt(batch, remoteAlice, text);
      await batch.commit();
      decrypt(session, reply);
    }
    alice.session = session;
  }
  const kept = store.get('sessions', alice.deviceId)?.sessions.length;
  if (kept !== sessionCount) throw new BenchError(`forgery bench: bob keeps ${kept} sessions, wanted ${sessionCount}`);
  return { alice, bob };
}

function forgedMessage(prekey: { identityKey: Uint8Array } | undefined): Uint8Array {
  const prekeyPart =
    prekey === undefined ? undefined : encodePrekeyHeader({ identityKey: prekey.identityKey, baseKey: generateDhKeyPair().publicKey, signedPrekeyId: SIGNED_PREKEY_ID });
  const header = encodeHeader(prekeyPart, generateDhKeyPair().publicKey, 0, 999, new Uint8Array(randomBytes(24)));
  return concatBytes(header, new Uint8Array(randomBytes(16)), new Uint8Array(randomBytes(FORGED_CIPHERTEXT_BYTES)));
}

/** The SDK's receive steps up to the decision (receiver.ts openIncoming). Returns the batch the SDK would commit. */
function receive(bob: Bob, body: Uint8Array) {
  const batch = bob.store.batch();
  const opened = openEnvelope(body, keyPairOf(bob.deviceRecord));
  const out = bob.sessions.decrypt(batch, opened.senderHandle, opened.senderDeviceId, opened.message);
  return { batch, out };
}

interface Timing {
  /** CPU µs of this process (process.cpuUsage) per envelope: what the work costs, whatever else runs on the machine. */
  cpu: number[];
  /** Wall-clock µs per envelope: the same plus any time the process waited for a core. */
  wall: number[];
}

function timed(timing: Timing, step: () => void): void {
  const cpu = process.cpuUsage();
  const start = performance.now();
  step();
  timing.wall.push((performance.now() - start) * 1000);
  const used = process.cpuUsage(cpu);
  timing.cpu.push(used.user + used.system);
}

/** Each forged envelope must be dropped as decrypt_failed (any other outcome is a broken benchmark). */
function timeForged(bob: Bob, bodies: readonly Uint8Array[]): Timing {
  const timing: Timing = { cpu: [], wall: [] };
  for (const body of bodies) {
    let code: string | undefined;
    timed(timing, () => {
      try {
        receive(bob, body);
      } catch (error) {
        code = error instanceof CryptoError ? error.code : String(error);
      }
    });
    if (code !== 'decrypt_failed') throw new BenchError(`forgery bench: a forged envelope ended in ${code ?? 'success'}, not decrypt_failed`);
  }
  return timing;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export async function runForgery(params: BenchConfig['forgery'], bodyBytes: number): Promise<LoadResult> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const { alice, bob } = await setUp(params.sessions);
  const seal = (message: Uint8Array) => sealEnvelope({ senderHandle: alice.handle, senderDeviceId: alice.deviceId, message }, bob.devicePublicKey);
  const forged = (prekey: boolean, count: number) =>
    Array.from({ length: count }, () => seal(forgedMessage(prekey ? { identityKey: alice.local.identityKey } : undefined)));

  timeForged(bob, forged(false, WARMUP));
  timeForged(bob, forged(true, WARMUP));
  const plain = timeForged(bob, forged(false, params.envelopes));
  const prekey = timeForged(bob, forged(true, params.envelopes));

  // Genuine messages, in order, from the session bob keeps first; each batch is committed
  // (untimed) so the next message is the chain's next, as in a conversation.
  const session = alice.session;
  if (session === undefined) throw new BenchError('forgery bench: no session');
  const plaintext = new Uint8Array(randomBytes(bodyBytes));
  const genuine: Timing = { cpu: [], wall: [] };
  for (let i = 0; i < WARMUP + params.envelopes; i++) {
    const body = seal(encrypt(session, plaintext));
    let received: ReturnType<typeof receive> | undefined;
    timed(i >= WARMUP ? genuine : { cpu: [], wall: [] }, () => {
      received = receive(bob, body);
    });
    if (received?.out.plaintext.length !== plaintext.length) throw new BenchError('forgery bench: a genuine message changed');
    await received.batch.commit();
  }

  const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
  return {
    completed: plain.cpu.length + prekey.cpu.length,
    seconds: (sum(plain.wall) + sum(prekey.wall)) / 1e6,
    forgedMessageMeanUs: mean(plain.cpu),
    forgedMessageP99Us: percentile(plain.cpu, 99),
    forgedMessageWallMeanUs: mean(plain.wall),
    forgedPrekeyMeanUs: mean(prekey.cpu),
    forgedPrekeyP99Us: percentile(prekey.cpu, 99),
    forgedPrekeyWallMeanUs: mean(prekey.wall),
    genuineMeanUs: mean(genuine.cpu),
    genuineP99Us: percentile(genuine.cpu, 99),
    genuineWallMeanUs: mean(genuine.wall),
    errors: 0,
    loadCpuPct: cpuPercent(cpu, (performance.now() - wall) / 1000),
  };
}
