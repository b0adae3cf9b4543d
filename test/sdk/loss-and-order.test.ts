/**
 * Loss and order become visible (protocol v2, session hygiene). A relay that drops one envelope
 * is caught on both sides: the recipient sees a gap in the sender's count, the sender sees its
 * message was not delivered while a later one was, and a resend fills the gap. A backlog
 * delivered in reverse reads in the order it was written. A device that cannot decrypt (lost
 * session state) tells the sender in a fresh session, and the sender sends again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url } from '../../crypto/index.js';
import { GAP_GRACE_MS, missingIn } from '../../client/sdk/history.js';
import { randomId } from '../../client/sdk/random.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { rawSend, registerDevice, tempDir, textsFrom, waitFor, type TestDevice } from './helpers.js';


describe('loss and order', () => {
  let relay: RelayHandle;
  const profiles = tempDir('sealpost-sdk-loss-');
  let alice: TestDevice;
  let bob: TestDevice;
  let mallory: TestDevice;
  const direct = { kind: 'direct', handle: 'bob' } as const;
  const fromAlice = { kind: 'direct', handle: 'alice' } as const;

  beforeAll(async () => {
    relay = await startRelay();
    alice = await registerDevice(profiles.path, relay.url, 'alice');
    bob = await registerDevice(profiles.path, relay.url, 'bob');
    mallory = await registerDevice(profiles.path, relay.url, 'mallory');
    const hello = await alice.client.send('bob', 'hello');
    await waitFor(() => alice.client.store.get('messages', hello.id)?.state === 'delivered', 'bob got hello and said so');
  });

  afterAll(async () => {
    for (const device of [alice, bob, mallory]) await device?.client.close().catch(() => undefined);
    await relay?.close();
    profiles.remove();
  });

  it('shows an envelope the relay dropped on both sides, and a resend fills the gap', async () => {
    const bobDevice = bob.client.deviceId!;
    await bob.client.close();
    const sent: Array<{ id: string; envelope: string }> = [];
    for (const text of ['one', 'two', 'three']) {
      const outgoing = await alice.client.send('bob', text);
      sent.push({ id: outgoing.id, envelope: alice.client.store.all('outbox').find((e) => e.messageId === outgoing.id && e.to === bobDevice)!.id });
      await outgoing.stored;
    }
    // The relay drops "two" from bob's queue.
    expect(await relay.app.store.ackIds(bobDevice, [sent[1]!.envelope])).toBe(1);
    bob = await bob.reopen();
    await waitFor(() => textsFrom(bob, 'alice').includes('three'), 'bob gets the rest');
    expect(textsFrom(bob, 'alice')).not.toContain('two');

    // The recipient sees that alice's device skipped a count …
    const gaps = missingIn(bob.client.store, fromAlice, Date.now() + GAP_GRACE_MS);
    expect(gaps).toEqual([{ handle: 'alice', deviceId: alice.client.deviceId, counts: [3] }]); // hello was 1, one 2, two 3
    // … and the sender that "two" stayed stored while "three" was delivered.
    const delivered = (i: number) => alice.client.store.get('messages', sent[i]!.id)?.state === 'delivered';
    await waitFor(() => delivered(0) && delivered(2), 'one and three are delivered');
    expect(alice.client.notArrived(direct)).toEqual([sent[1]!.id]);

    await alice.client.resend(sent[1]!.id);
    await waitFor(() => textsFrom(bob, 'alice').includes('two'), 'the resend arrives');
    await waitFor(() => alice.client.store.get('messages', sent[1]!.id)?.state === 'delivered', 'two is delivered');
    expect(alice.client.notArrived(direct)).toEqual([]);
    expect(missingIn(bob.client.store, fromAlice, Date.now() + GAP_GRACE_MS)).toEqual([]);
    expect(bob.client.messages(fromAlice).map((m) => m.text)).toEqual(['hello', 'one', 'two', 'three']);

    // A lost receipt: "one" reached bob but alice never heard. Sending it again makes bob, who
    // drops the copy, confirm it once more.
    const one = alice.client.store.get('messages', sent[0]!.id)!;
    await alice.client.store.commit([{ collection: 'messages', key: one.id, value: { ...one, state: 'stored' } }]);
    expect(alice.client.notArrived(direct)).toEqual([one.id]);
    await alice.client.resend(one.id);
    await waitFor(() => alice.client.store.get('messages', one.id)?.state === 'delivered', 'bob confirms the copy');
    expect(textsFrom(bob, 'alice').filter((t) => t === 'one')).toHaveLength(1);
  });

  it('reads a backlog delivered in reverse in the order it was written', async () => {
    const bobDevice = bob.client.deviceId!;
    await bob.client.close();
    const bodies: Uint8Array[] = [];
    for (const text of ['first', 'second', 'third']) {
      const outgoing = await alice.client.send('bob', text);
      bodies.push(fromBase64Url(alice.client.store.all('outbox').find((e) => e.messageId === outgoing.id && e.to === bobDevice)!.body));
      await outgoing.stored;
    }
    // The relay's queue holds them in order; a relay (or anyone) can put copies in the reverse
    // order in front of them: bob reads the copies first, the originals are then duplicates.
    await relay.app.store.ackUpTo(bobDevice, Number.MAX_SAFE_INTEGER);
    for (const body of [...bodies].reverse()) expect((await rawSend(mallory.client, [{ to: bobDevice, id: randomId(), body }])).ok).toBe(true);
    bob = await bob.reopen();
    await waitFor(() => textsFrom(bob, 'alice').includes('first'), 'bob gets the backlog');
    expect(textsFrom(bob, 'alice').slice(-3)).toEqual(['third', 'second', 'first']); // arrival order
    expect(bob.client.messages(fromAlice).map((m) => m.text).slice(-3)).toEqual(['first', 'second', 'third']); // history order
  });

  it('a device that lost its session tells the sender in a fresh session, and the sender sends again', async () => {
    // Both sides past the first (prekey) messages: alice's next message is a plain ratchet message.
    await (await bob.client.send('alice', 'are you there?')).stored;
    await waitFor(() => textsFrom(alice, 'bob').includes('are you there?'), 'alice reads bob');
    await alice.client.outboxDrained();
    // bob loses his session with alice's device (e.g. a restored backup).
    await bob.client.store.commit([{ collection: 'sessions', key: alice.client.deviceId!, value: null }]);
    const rejected: string[] = [];
    bob.client.on('rejected', (e) => rejected.push(e.code));
    // Typing first (ephemeral): it cannot be decrypted either, but must not use up the notice.
    await alice.client.sendTyping({ handle: 'bob' }, true);
    const lost = await alice.client.send('bob', 'sent into the broken session');
    await lost.stored;
    await waitFor(() => textsFrom(bob, 'alice').includes('sent into the broken session'), 'alice sends it again in the new session', 20_000);
    expect(rejected).toContain('decrypt_failed');
    await waitFor(() => alice.client.store.get('messages', lost.id)?.state === 'delivered', 'and it is delivered');
    // The conversation goes on both ways.
    await (await bob.client.send('alice', 'all good')).stored;
    await waitFor(() => textsFrom(alice, 'bob').includes('all good'), 'alice reads bob');
  });
});
