/**
 * Issue 18 item 7: no one sender can fill a device's queue, and queues cannot fill the disk.
 * Durable envelopes are budgeted per (sending device, recipient device) pair and per recipient
 * device's inbound bytes per window (refused `rate_limited`, per envelope), and all queues
 * together are capped by --max-total-queue-bytes (refused `quota_exceeded`).
 */
import { describe, expect, it } from 'vitest';
import { sodium } from '../../crypto/sodium.js';
import { InboundLimits } from '../../server/limits/inbound-limits.js';
import { ack, connectInbox, send } from '../support/envelopes.js';
import { connectDevice, makeAccount, randomId, registerAll } from '../support/identity.js';
import { relaysClosedAfterAll } from '../support/two-accounts.js';

const { setup } = relaysClosedAfterAll();

const raw = (to: string, size: number, extra: { ephemeral?: boolean } = {}) => ({ to, id: randomId(), body: sodium().randombytes_buf(size), ...extra });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function withCarol(url: string) {
  const carol = await makeAccount();
  await registerAll(url, carol);
  return carol;
}

describe('per-pair budget', () => {
  it('refuses one sender flooding one recipient rate_limited after the burst, while another sender still gets through', async () => {
    const { relay, alice, bob } = await setup({ pairRatePerSecond: 1, pairBurst: 5 });
    const carol = await withCarol(relay.url);
    const to = bob.devices[0]!.id;
    const sa = await connectDevice(relay.url, alice.devices[0]!);
    const sc = await connectDevice(relay.url, carol.devices[0]!);
    const flood = Array.from({ length: 8 }, () => raw(to, 10));
    const result = await send(sa, flood);
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) throw new Error('unreachable');
    // Per envelope: the first five stored, the rest refused, not the whole batch.
    expect(result.failed.map((f) => [f.id, f.error.code])).toEqual(flood.slice(5).map((e) => [e.id, 'rate_limited']));
    expect(await send(sa, raw(to, 10))).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    // Another sender to the same recipient, and the same sender to another recipient, go through.
    expect(await send(sc, raw(to, 10))).toEqual({ ok: true, failed: [] });
    expect(await send(sa, raw(carol.devices[0]!.id, 10))).toEqual({ ok: true, failed: [] });
    // Ephemeral envelopes are not queued and not counted.
    expect(await send(sa, raw(to, 10, { ephemeral: true }))).toEqual({ ok: true, failed: [] });
    expect((await relay.app.store.queueStats(to)).envelopes).toBe(6);
    // The bucket refills.
    await sleep(1100);
    expect(await send(sa, raw(to, 10))).toEqual({ ok: true, failed: [] });
    sa.close();
    sc.close();
  });
});

describe('per-recipient inbound bytes', () => {
  it('holds across senders, gives back what the store did not keep, and opens again with the next window', async () => {
    const { relay, alice, bob } = await setup({ maxBodyBytes: 1000, inboundBytesPerDevice: 2000, inboundWindowMs: 1000 });
    const carol = await withCarol(relay.url);
    const to = bob.devices[0]!.id;
    const sa = await connectDevice(relay.url, alice.devices[0]!);
    const sc = await connectDevice(relay.url, carol.devices[0]!);
    const first = raw(to, 1000);
    expect(await send(sa, first)).toEqual({ ok: true, failed: [] });
    // A resend is a duplicate: the store keeps nothing new, so it costs no bytes.
    expect(await send(sa, first)).toEqual({ ok: true, failed: [] });
    expect(await send(sc, raw(to, 900))).toEqual({ ok: true, failed: [] });
    // 1900 of 2000 used, by two senders together.
    expect(await send(sc, raw(to, 200))).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(await send(sa, raw(to, 101))).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(await send(sa, raw(to, 100))).toEqual({ ok: true, failed: [] });
    expect(await send(sc, raw(to, 1))).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    // Other recipients are unaffected.
    expect(await send(sa, raw(carol.devices[0]!.id, 1000))).toEqual({ ok: true, failed: [] });
    expect((await relay.app.store.queueStats(to)).bytes).toBe(2000);
    await sleep(1100);
    expect(await send(sc, raw(to, 1000))).toEqual({ ok: true, failed: [] });
    sa.close();
    sc.close();
  });
});

describe('relay-wide queue quota', () => {
  it('refuses durable envelopes quota_exceeded once all queues together hold --max-total-queue-bytes, until acks free room', async () => {
    const { relay, alice, bob } = await setup({ maxTotalQueueBytes: 1500 });
    const carol = await withCarol(relay.url);
    const sa = await connectDevice(relay.url, alice.devices[0]!);
    expect(await send(sa, raw(bob.devices[0]!.id, 1000))).toEqual({ ok: true, failed: [] });
    // Carol's own queue is empty; the relay's is not.
    expect(await send(sa, raw(carol.devices[0]!.id, 600))).toMatchObject({ ok: false, error: { code: 'quota_exceeded' } });
    const batch = [raw(carol.devices[0]!.id, 500), raw(carol.devices[0]!.id, 1)];
    expect(await send(sa, batch)).toMatchObject({ ok: true, failed: [{ id: batch[1]!.id, error: { code: 'quota_exceeded' } }] });
    expect((await relay.app.store.relayStats()).bytes).toBe(1500);
    const { socket: sb, inbox } = await connectInbox(relay.url, bob.devices[0]!);
    await inbox.waitForCount(1);
    expect(await ack(sb, { upTo: inbox.envelopes[0]!.seq! })).toEqual({ ok: true, deleted: 1 });
    expect(await send(sa, raw(carol.devices[0]!.id, 600))).toEqual({ ok: true, failed: [] });
    sa.close();
    sb.close();
  });
});

describe('InboundLimits in memory', () => {
  const policy = { perPair: { ratePerSecond: 1, burst: 2 }, perRecipient: { bytes: 100, windowMs: 1000 } };

  it('stays bounded: refilled pairs and ended windows are forgotten, and past maxKeys the oldest goes', () => {
    const limits = new InboundLimits(policy, 3);
    const t = 1_000_000;
    for (const to of ['a', 'b', 'c', 'd', 'e']) expect(limits.take('s', to, 10, t)).toBeUndefined();
    expect(limits.sizes).toEqual({ pairs: 3, recipients: 3 });
    // After the window, a new one replaces every ended one.
    expect(limits.take('s', 'f', 10, t + 5000)).toBeUndefined();
    expect(limits.sizes.recipients).toBe(1);
  });

  it('forgets a recipient that does not exist, and refunds bytes the store did not keep', () => {
    const limits = new InboundLimits(policy);
    const t = 1_000_000;
    expect(limits.take('s', 'ghost', 10, t)).toBeUndefined();
    limits.refund('s', 'ghost', 10, true);
    expect(limits.sizes).toEqual({ pairs: 0, recipients: 0 });
    expect(limits.take('s', 'r', 60, t)).toBeUndefined();
    expect(limits.take('s2', 'r', 60, t)).toBe('recipient');
    limits.refund('s', 'r', 60, false);
    expect(limits.take('s2', 'r', 60, t)).toBeUndefined();
    // The pair's tokens are not given back.
    expect(limits.take('s', 'r', 1, t)).toBeUndefined();
    expect(limits.take('s', 'r', 1, t)).toBe('pair');
  });
});
