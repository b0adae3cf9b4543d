/**
 * The web client's one-tab coordination without a browser: the BroadcastChannel protocol of
 * client/app/src/model/profile-lock.ts (what stands in where Web Locks are missing, and what
 * carries the handover when they are not), and the check of what a losing tab hands over.
 * one-tab.test.ts drives the real thing, with Web Locks, in Chromium.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readHandover } from '../../client/app/src/model/handover.js';
import { ProfileLock } from '../../client/app/src/model/profile-lock.js';

describe('profile lock without Web Locks (BroadcastChannel only)', () => {
  const locks: ProfileLock[] = [];
  const tab = () => {
    const lock = new ProfileLock(undefined);
    locks.push(lock);
    return lock;
  };
  afterEach(() => {
    for (const lock of locks.splice(0)) lock.dispose();
  });

  it('lets one tab hold the profile; a second is told it is held; "Use here" moves it with the handover', async () => {
    const first = tab();
    const second = tab();
    expect(await first.tryAcquire()).toBe(true);
    expect(await second.tryAcquire()).toBe(false);
    expect(second.held).toBe(false);

    const handover = [{ conversation: { kind: 'direct', handle: 'bob' }, text: 'not queued yet', ts: 1, reason: 'offline', retryOnReconnect: true }];
    let lost = 0;
    first.onLost = () => {
      lost += 1;
      first.announceReleased(handover);
    };
    const received = await second.takeOver();
    expect(lost).toBe(1);
    expect(first.held).toBe(false);
    expect(second.held).toBe(true);
    expect(received).toEqual(handover);
    // The tab that lost it is now the one told the profile is held.
    expect(await first.tryAcquire()).toBe(false);
  });
});

describe('handover check', () => {
  it('keeps well-formed unsent messages and drops the rest', () => {
    const kept = readHandover([
      { conversation: { kind: 'direct', handle: 'bob' }, text: 'one', ts: 1, reason: 'offline', retryOnReconnect: true },
      { conversation: { kind: 'group', groupId: 'g1' }, text: 'two', ts: 2, reason: 'refused' },
      { conversation: { kind: 'direct' }, text: 'no handle', ts: 3, reason: 'x' },
      { conversation: { kind: 'direct', handle: 'bob' }, text: 42, ts: 4, reason: 'x' },
      null,
      'text',
    ]);
    expect(kept.map((u) => [u.text, u.retryOnReconnect])).toEqual([['one', true], ['two', false]]);
    expect(new Set(kept.map((u) => u.localId)).size).toBe(2);
    expect(readHandover(undefined)).toEqual([]);
    expect(readHandover({ not: 'a list' })).toEqual([]);
  });
});
