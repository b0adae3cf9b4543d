/**
 * A three-person group by pairwise fan-out: a member is added, another removed; the removed
 * member gets the membership change and nothing after it — no one even encrypts to it again.
 * Only admins change the group; a replayed old update changes nothing; a group message is
 * "delivered" only once every member confirmed it. Nothing the relay wrote holds a text or the
 * group's name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupEvent } from '../../client/sdk/index.js';
import { expectNoNeedles, relaySources } from '../support/privacy-scan.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { fromBase64Url } from '../../crypto/index.js';
import { randomId } from '../../client/sdk/random.js';
import { rawSend, registerDevice, tempDir, waitFor, type TestDevice } from './helpers.js';


describe('group conversations', () => {
  let relay: RelayHandle;
  const profiles = tempDir('sealpost-sdk-group-');
  const devices: Record<string, TestDevice> = {};
  const groupEvents: Record<string, GroupEvent[]> = {};

  beforeAll(async () => {
    relay = await startRelay();
    for (const handle of ['alice', 'bob', 'carol', 'dave']) {
      devices[handle] = await registerDevice(profiles.path, relay.url, handle);
      groupEvents[handle] = [];
      devices[handle].client.on('group', (event) => groupEvents[handle]!.push(event));
    }
  });

  afterAll(async () => {
    for (const device of Object.values(devices)) await device.client.close();
    await relay?.close();
    profiles.remove();
  });

  const groupTexts = (handle: string, groupId: string) =>
    devices[handle]!.seen.filter((m) => m.conversation.kind === 'group' && m.conversation.groupId === groupId).map((m) => `${m.from}: ${m.text}`);

  it('adds dave, removes carol, and carol cannot read what follows', async () => {
    const { alice, bob, carol, dave } = devices as Record<'alice' | 'bob' | 'carol' | 'dave', TestDevice>;
    const group = await alice.client.createGroup('weekend', ['bob', 'carol']);
    await waitFor(() => groupEvents.bob!.length === 1 && groupEvents.carol!.length === 1, 'members learn of the group');
    expect(bob.client.groups()[0]?.members.sort()).toEqual(['alice', 'bob', 'carol']);

    await (await alice.client.sendToGroup(group.groupId, 'hello all')).stored;
    await waitFor(() => groupTexts('bob', group.groupId).length === 1 && groupTexts('carol', group.groupId).length === 1, 'first message');
    await (await bob.client.sendToGroup(group.groupId, 'hi from bob')).stored;
    await waitFor(() => groupTexts('alice', group.groupId).length === 1 && groupTexts('carol', group.groupId).length === 2, 'bob\'s message');

    await expect(bob.client.addGroupMembers(group.groupId, ['mallory'])).rejects.toMatchObject({ code: 'not_an_admin' });
    await alice.client.addGroupMembers(group.groupId, ['dave']);
    // The sealed update as the relay stored it for bob: kept to be replayed after carol's removal.
    const addDaveForBob = alice.client.store.all('outbox').find((e) => e.to === bob.client.deviceId);
    await waitFor(() => groupEvents.dave!.length === 1 && groupEvents.bob!.length === 2, 'dave is added');
    expect(groupEvents.bob![1]).toMatchObject({ added: ['dave'], removed: [], by: 'alice' });

    await alice.client.removeGroupMembers(group.groupId, ['carol']);
    await waitFor(() => groupEvents.carol!.length === 3 && groupEvents.bob!.length === 3 && groupEvents.dave!.length === 2, 'carol is removed');
    expect(groupEvents.carol![2]).toMatchObject({ removed: ['carol'], by: 'alice' });
    await expect(carol.client.sendToGroup(group.groupId, 'let me back')).rejects.toMatchObject({ code: 'not_a_member' });

    // A replayed old update (epoch 2, carol still a member) changes nothing.
    expect(addDaveForBob).toBeDefined();
    await rawSend(dave.client, [{ to: bob.client.deviceId!, id: randomId(), body: fromBase64Url(addDaveForBob!.body) }]);
    await (await dave.client.send('bob', 'after the replay')).stored;
    await waitFor(() => bob.seen.some((m) => m.text === 'after the replay'), 'bob processed the replay');
    expect(bob.client.groups().find((g) => g.groupId === group.groupId)?.members.sort()).toEqual(['alice', 'bob', 'dave']);

    const sessionsWithCarol = () => ['alice', 'bob', 'dave'].map((h) => JSON.stringify(devices[h]!.client.store.get('sessions', carol.client.deviceId!)));
    const before = sessionsWithCarol();
    await (await alice.client.sendToGroup(group.groupId, 'secret plans')).stored;
    await (await dave.client.sendToGroup(group.groupId, 'dave here')).stored;
    await (await bob.client.sendToGroup(group.groupId, 'bob agrees')).stored;
    for (const handle of ['alice', 'bob', 'dave']) {
      await waitFor(() => groupTexts(handle, group.groupId).filter((t) => /secret plans|dave here|bob agrees/.test(t)).length === 2, `${handle} gets the later messages`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(groupTexts('carol', group.groupId)).toEqual(['alice: hello all', 'bob: hi from bob']);
    // Nothing was encrypted to carol after her removal: no member's session with her moved.
    expect(sessionsWithCarol()).toEqual(before);
    expect(groupTexts('dave', group.groupId)).toEqual(['alice: secret plans', 'bob: bob agrees']);
  });

  it('marks a group message delivered only once every other member confirmed it', async () => {
    const { alice, bob, dave } = devices as Record<'alice' | 'bob' | 'dave', TestDevice>;
    const group = alice.client.groups().find((g) => g.name === 'weekend')!;
    await dave.client.close();
    const message = await alice.client.sendToGroup(group.groupId, 'who is there?');
    await message.stored;
    await waitFor(() => bob.seen.some((m) => m.text === 'who is there?'), 'bob reads it');
    await waitFor(() => (alice.client.store.get('messages', message.id)?.deliveredBy ?? []).includes('bob'), 'bob\'s receipt arrives');
    expect(alice.client.store.get('messages', message.id)?.state).toBe('stored');
    devices.dave = await dave.reopen();
    await waitFor(() => alice.client.store.get('messages', message.id)?.state === 'delivered', 'dave\'s receipt completes it');
  });

  it('leaves no group text and no group name in anything the relay wrote', async () => {
    // Group updates and messages travel sealed, pairwise (test/support/privacy-scan.ts).
    const texts = ['weekend', 'hello all', 'hi from bob', 'let me back', 'after the replay', 'secret plans', 'dave here', 'bob agrees', 'who is there?'];
    await expectNoNeedles(relaySources(relay), texts);
  });
});
