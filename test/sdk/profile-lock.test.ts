/**
 * One writer per profile. Two clients on one profile would encrypt from the same ratchet state
 * (the same message key twice); the file store takes an exclusive lock, so the second is
 * refused — in another process or in the same one — and a lock left by a dead process is
 * taken over.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilePersistence, SealpostClient } from '../../client/sdk/node.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { registerDevice, tempDir, type TestDevice } from './helpers.js';

describe('the profile lock', () => {
  let relay: RelayHandle;
  const profiles = tempDir('sealpost-sdk-lock-');
  let alice: TestDevice;

  beforeAll(async () => {
    relay = await startRelay();
    alice = await registerDevice(profiles.path, relay.url, 'alice');
  });

  afterAll(async () => {
    await alice?.client.close();
    await relay?.close();
    profiles.remove();
  });

  it('refuses a second client on an open profile, and lets one in once the first closed', async () => {
    await expect(SealpostClient.open({ persistence: new FilePersistence(alice.profile) })).rejects.toMatchObject({ code: 'profile_locked' });
    await alice.client.close();
    expect(existsSync(join(alice.profile, 'store.lock'))).toBe(false);
    alice = await alice.reopen();
    expect(alice.client.handle).toBe('alice');
  });

  it('takes over a lock whose process is gone', async () => {
    const profile = join(profiles.path, 'stale');
    // A pid that existed and exited: the lock it left behind is stale.
    const exited = spawnSync(process.execPath, ['-e', '0']).pid;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(profile, { recursive: true, mode: 0o700 });
    writeFileSync(join(profile, 'store.lock'), `${exited} deadbeef`);
    const client = await SealpostClient.open({ persistence: new FilePersistence(profile) });
    await client.close();
    expect(existsSync(join(profile, 'store.lock'))).toBe(false);
  });
});
