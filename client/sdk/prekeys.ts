/**
 * Prekey upkeep: one-time prekeys are generated in uploads of up to 100 and replenished when
 * the relay reports fewer than a threshold; the signed prekey (signed by the DEVICE key in
 * protocol v2) is rotated on a schedule, and a retired one is kept for a grace period — at least the
 * relay's envelope TTL — so prekey messages still queued for it can be opened. Private halves
 * are persisted BEFORE the public halves are uploaded.
 */
import { fromBase64Url, generateDhKeyPair, signSignedPrekey, toBase64Url } from '../../crypto/index.js';
import type { OneTimePrekeyJson, SignedPrekeyJson } from '../../protocol/http.js';
import { keyPairRecord } from './local-identity.js';
import type { StoreBatch } from './store/local-store.js';
import type { AccountRecord, OneTimePrekeyRecord, SignedPrekeyRecord } from './store/records.js';

export const MAX_PREKEY_UPLOAD = 100;

export interface PrekeyPolicy {
  /** Replenish when the relay holds fewer one-time prekeys than this. */
  replenishBelow: number;
  rotateSignedPrekeyEveryMs: number;
  /** How long a retired signed prekey stays usable for late prekey messages. */
  retiredSignedPrekeyGraceMs: number;
}

export const DEFAULT_PREKEY_POLICY: PrekeyPolicy = {
  replenishBelow: 20,
  rotateSignedPrekeyEveryMs: 7 * 24 * 3600_000,
  retiredSignedPrekeyGraceMs: 30 * 24 * 3600_000,
};

/** Allocates key ids from the account's counter (written to `batch`), never reusing one. */
function allocateKeyIds(batch: StoreBatch, count: number): number {
  const account = batch.get('account', 'self') as AccountRecord;
  const first = account.nextPrekeyId;
  batch.put('account', 'self', { ...account, nextPrekeyId: first + count });
  return first;
}

export function createOneTimePrekeys(batch: StoreBatch, count: number): OneTimePrekeyJson[] {
  const first = allocateKeyIds(batch, count);
  const uploads: OneTimePrekeyJson[] = [];
  for (let keyId = first; keyId < first + count; keyId++) {
    const record: OneTimePrekeyRecord = { keyId, ...keyPairRecord(generateDhKeyPair()) };
    batch.put('oneTimePrekeys', String(keyId), record);
    uploads.push({ keyId, publicKey: record.publicKey });
  }
  return uploads;
}

/** A new signed prekey; the previous current one is marked retired in the same batch. */
export function createSignedPrekey(batch: StoreBatch, current: SignedPrekeyRecord[], now = Date.now()): SignedPrekeyJson {
  const keyId = allocateKeyIds(batch, 1);
  const account = batch.get('account', 'self') as AccountRecord;
  const pair = generateDhKeyPair();
  const signature = signSignedPrekey(
    { devicePublicKey: fromBase64Url(account.device.publicKey), keyId, publicKey: pair.publicKey },
    fromBase64Url(account.device.privateKey),
  );
  for (const old of current) if (old.retiredAt === undefined) batch.put('signedPrekeys', String(old.keyId), { ...old, retiredAt: now });
  const record: SignedPrekeyRecord = { keyId, ...keyPairRecord(pair), signature: toBase64Url(signature), createdAt: now };
  batch.put('signedPrekeys', String(keyId), record);
  return { keyId, publicKey: record.publicKey, signature: record.signature };
}

export function currentSignedPrekey(all: SignedPrekeyRecord[]): SignedPrekeyRecord | undefined {
  return all.filter((record) => record.retiredAt === undefined).sort((a, b) => b.createdAt - a.createdAt)[0];
}

export function expiredSignedPrekeys(all: SignedPrekeyRecord[], policy: PrekeyPolicy, now = Date.now()): SignedPrekeyRecord[] {
  return all.filter((record) => record.retiredAt !== undefined && now - record.retiredAt > policy.retiredSignedPrekeyGraceMs);
}
