/**
 * Prekey upkeep against a real relay: one-time prekeys are replenished when the relay reports
 * few left, the signed prekey rotates on schedule (the old one kept for late messages), and
 * the file store holds the profile with mode 0600, rewritten atomically.
 */
import Database from 'better-sqlite3';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilePersistence, SealpostClient } from '../../client/sdk/node.js';
import { deviceSigner } from '../../client/sdk/local-identity.js';
import { RelayHttp } from '../../client/sdk/relay-http.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { openDevice, registerDevice, tempDir, textsFrom, waitFor, type TestDevice } from './helpers.js';

describe('prekeys and the profile store', () => {
  let relay: RelayHandle;
  const profiles = tempDir('sealpost-sdk-prekeys-');
  let bob: TestDevice;
  let claimer: TestDevice;

  beforeAll(async () => {
    // Bundle claims are limited per target device; this suite drains one on purpose.
    relay = await startRelay({ bundleClaimsPerTarget: 1_000 });
    bob = await registerDevice(profiles.path, relay.url, 'bob');
    claimer = await registerDevice(profiles.path, relay.url, 'claimer');
  });

  afterAll(async () => {
    await claimer?.client.close();
    await bob?.client.close();
    await relay?.close();
    profiles.remove();
  });

  const relayCount = (deviceId: string) => {
    const db = new Database(relay.dbPath, { readonly: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM one_time_prekeys WHERE device_id = ?').get(deviceId) as { n: number }).n;
    } finally {
      db.close();
    }
  };

  it('replenishes one-time prekeys when the relay reports fewer than the threshold', async () => {
    const deviceId = bob.client.deviceId!;
    expect(relayCount(deviceId)).toBe(100);
    await bob.client.close();
    // Claims are signed by a registered device (anonymous ones are refused).
    const http = new RelayHttp(relay.url);
    for (let i = 0; i < 90; i++) await http.claimBundle(deviceId, deviceSigner(claimer.client.account!));
    expect(relayCount(deviceId)).toBe(10);
    bob = await bob.reopen(); // the relay reports 10 on connect
    await waitFor(() => relayCount(deviceId) === 100, 'the relay holds 100 again');
    expect(bob.client.store.count('oneTimePrekeys')).toBe(190); // claimed-but-unused keys stay usable
  });

  it('rotates the signed prekey on schedule and keeps the old one for a grace period', async () => {
    const before = bob.client.store.all('signedPrekeys');
    expect(before).toHaveLength(1);
    await bob.client.close();
    const rotating = await SealpostClient.open({ persistence: new FilePersistence(bob.profile), prekeyPolicy: { rotateSignedPrekeyEveryMs: 0 } });
    rotating.connect();
    await waitFor(() => rotating.store.count('signedPrekeys') === 2, 'a new signed prekey');
    const db = new Database(relay.dbPath, { readonly: true });
    const row = db.prepare('SELECT spk_key_id FROM devices WHERE device_id = ?').get(rotating.deviceId) as { spk_key_id: number };
    db.close();
    const current = rotating.store.all('signedPrekeys').find((k) => k.retiredAt === undefined)!;
    expect(current.keyId).not.toBe(before[0]!.keyId);
    expect([current.keyId, before[0]!.keyId]).toContain(row.spk_key_id);
    expect(rotating.store.get('signedPrekeys', String(before[0]!.keyId))?.retiredAt).toBeTypeOf('number');
    await rotating.close();

    // A new contact starts a session on the rotated key and is understood.
    bob = await bob.reopen();
    const carol = await registerDevice(profiles.path, relay.url, 'carol');
    await (await carol.client.send('bob', 'after rotation')).stored;
    await waitFor(() => textsFrom(bob, 'carol').includes('after rotation'), 'bob reads it');
    await carol.client.close();
  });

  it('keeps the profile in 0600 files, with no temporary files left behind', async () => {
    await bob.client.close(); // a live client may be mid-write (temp file not yet renamed)
    const files = readdirSync(bob.profile);
    expect(files).toContain('store.journal');
    for (const name of files) expect(statSync(join(bob.profile, name)).mode & 0o777, name).toBe(0o600);
    expect(statSync(bob.profile).mode & 0o777).toBe(0o700);
    expect(readdirSync(bob.profile).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const reopened = await openDevice('bob-copy', bob.profile);
    expect(reopened.client.account?.handle).toBe('bob');
    expect(reopened.client.messages().map((m) => m.text)).toContain('after rotation');
    await reopened.client.close();
  });
});
