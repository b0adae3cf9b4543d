/** Two authenticated devices exchange envelopes; offline delivery in order; delete only after ack. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAccount, registerAll, connectDevice, type TestAccount } from '../support/identity.js';
import { ack, connectInbox, envelopeTo, openFor, quietPeriod, send } from '../support/envelopes.js';
import type { RelayHandle } from '../support/relay.js';
import { relayWithTwoAccounts } from '../support/two-accounts.js';

let relay: RelayHandle;
let alice: TestAccount;
let bob: TestAccount;

beforeAll(async () => {
  ({ relay, alice, bob } = await relayWithTwoAccounts());
});
afterAll(async () => relay.close());

describe('envelope exchange', () => {
  it('delivers live envelopes both ways', async () => {
    const a = alice.devices[0]!;
    const b = bob.devices[0]!;
    const { socket: sa, inbox: inboxA } = await connectInbox(relay.url, a);
    const { socket: sb, inbox: inboxB } = await connectInbox(relay.url, b);
    await inboxB.until((i) => i.prekeyCounts.length > 0);
    await inboxA.until((i) => i.prekeyCounts.length > 0);
    expect(inboxB.prekeyCounts[0]).toBe(5);

    const toBob = envelopeTo(b, 'hello bob');
    expect(await send(sa, toBob)).toEqual({ ok: true, failed: [] });
    await inboxB.waitForCount(1);
    const got = inboxB.envelopes[0]!;
    expect(got.id).toBe(toBob.id);
    expect(typeof got.seq).toBe('number');
    expect(openFor(b, got.body)).toBe('hello bob');
    expect(await ack(sb, { ids: [got.id] })).toEqual({ ok: true, deleted: 1 });

    expect(await send(sb, envelopeTo(a, 'hello alice'))).toEqual({ ok: true, failed: [] });
    await inboxA.waitForCount(1);
    expect(openFor(a, inboxA.envelopes[0]!.body)).toBe('hello alice');
    expect(await ack(sa, { upTo: inboxA.envelopes[0]!.seq! })).toEqual({ ok: true, deleted: 1 });
    sa.close();
    sb.close();
  });

  it('queues for an offline recipient, drains in order on reconnect, deletes only after ack', async () => {
    const a = alice.devices[0]!;
    const b = bob.devices[0]!;
    const sa = await connectDevice(relay.url, a);
    const texts = Array.from({ length: 5 }, (_, i) => `offline message ${i}`);
    const sent = texts.map((t) => envelopeTo(b, t));
    for (const e of sent) expect(await send(sa, e)).toEqual({ ok: true, failed: [] });
    expect((await relay.app.store.queueStats(b.id)).envelopes).toBe(5);

    // First connection: receives everything in order but does not ack.
    const { socket: sb1, inbox: inbox1 } = await connectInbox(relay.url, b);
    await inbox1.waitForCount(5);
    expect(inbox1.envelopes.map((e) => e.id)).toEqual(sent.map((e) => e.id));
    expect(inbox1.envelopes.map((e) => openFor(b, e.body))).toEqual(texts);
    const seqs = inbox1.envelopes.map((e) => e.seq!);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    sb1.close();
    await quietPeriod(100);
    expect((await relay.app.store.queueStats(b.id)).envelopes).toBe(5);

    // Disconnected before acking: redelivered, same ids, same order.
    const { socket: sb2, inbox: inbox2 } = await connectInbox(relay.url, b);
    await inbox2.waitForCount(5);
    expect(inbox2.envelopes.map((e) => e.id)).toEqual(sent.map((e) => e.id));
    expect(await ack(sb2, { upTo: seqs[4]! })).toEqual({ ok: true, deleted: 5 });
    expect((await relay.app.store.queueStats(b.id)).envelopes).toBe(0);
    sb2.close();

    // After the ack nothing comes back.
    const { socket: sb3, inbox: inbox3 } = await connectInbox(relay.url, b);
    await inbox3.until((i) => i.prekeyCounts.length > 0);
    await quietPeriod(200);
    expect(inbox3.envelopes).toHaveLength(0);
    sb3.close();
    sa.close();
  });

  it('fans out a batch to several devices and reports unknown recipients per envelope', async () => {
    const carol = await makeAccount({ devices: 2 });
    await registerAll(relay.url, carol);
    const sa = await connectDevice(relay.url, alice.devices[0]!);
    const { socket: c0, inbox: i0 } = await connectInbox(relay.url, carol.devices[0]!);
    const { socket: c1, inbox: i1 } = await connectInbox(relay.url, carol.devices[1]!);
    const ghost = (await makeAccount()).devices[0]!;
    const batch = [envelopeTo(carol.devices[0]!, 'to c0'), envelopeTo(carol.devices[1]!, 'to c1'), envelopeTo(ghost, 'to nobody')];
    const result = await send(sa, batch);
    expect(result).toEqual({ ok: true, failed: [{ id: batch[2]!.id, to: ghost.id, error: { code: 'unknown_device', message: expect.any(String) } }] });
    await i0.waitForCount(1);
    await i1.waitForCount(1);
    expect(openFor(carol.devices[0]!, i0.envelopes[0]!.body)).toBe('to c0');
    expect(openFor(carol.devices[1]!, i1.envelopes[0]!.body)).toBe('to c1');
    // A single envelope to an unknown device is refused outright.
    expect(await send(sa, envelopeTo(ghost, 'x'))).toMatchObject({ ok: false, error: { code: 'unknown_device' } });
    for (const s of [sa, c0, c1]) s.close();
  });

  it('pushes ephemeral envelopes to live sockets only and never stores them', async () => {
    const b = bob.devices[0]!;
    const sa = await connectDevice(relay.url, alice.devices[0]!);
    // Offline: accepted, not stored, never delivered later.
    expect(await send(sa, envelopeTo(b, 'typing…', { ephemeral: true }))).toEqual({ ok: true, failed: [] });
    expect((await relay.app.store.queueStats(b.id)).envelopes).toBe(0);
    const { socket: sb, inbox: inbox } = await connectInbox(relay.url, b);
    await inbox.until((i) => i.prekeyCounts.length > 0);
    await quietPeriod(150);
    expect(inbox.envelopes).toHaveLength(0);
    // Live: pushed, marked ephemeral, no seq.
    const live = envelopeTo(b, 'typing live', { ephemeral: true });
    expect(await send(sa, live)).toEqual({ ok: true, failed: [] });
    await inbox.waitForCount(1);
    expect(inbox.envelopes[0]).toMatchObject({ id: live.id, ephemeral: true });
    expect(inbox.envelopes[0]!.seq).toBeUndefined();
    expect((await relay.app.store.queueStats(b.id)).envelopes).toBe(0);
    sa.close();
    sb.close();
  });

  it('treats a resent envelope id as an idempotent success, storing one copy', async () => {
    const b = bob.devices[0]!;
    const sa = await connectDevice(relay.url, alice.devices[0]!);
    const e = envelopeTo(b, 'once only');
    expect(await send(sa, e)).toEqual({ ok: true, failed: [] });
    expect(await send(sa, e)).toEqual({ ok: true, failed: [] });
    expect(await send(sa, [e, e])).toEqual({ ok: true, failed: [] });
    expect((await relay.app.store.queueStats(b.id)).envelopes).toBe(1);
    const { socket: sb, inbox: inbox } = await connectInbox(relay.url, b);
    await inbox.waitForCount(1);
    await quietPeriod(150);
    expect(inbox.envelopes.map((x) => x.id)).toEqual([e.id]);
    expect(await ack(sb, { ids: [e.id] })).toEqual({ ok: true, deleted: 1 });
    sa.close();
    sb.close();
  });
});
