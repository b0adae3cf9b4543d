/** Socket handshake refusals carry stable codes; no socket can reach another device's queue. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../crypto/keys.js';
import { ack, connectInbox, envelopeTo, quietPeriod, send } from '../support/envelopes.js';
import { connectDevice, handshakeAuth, makeAccount, randomId, refusalCode, type TestAccount } from '../support/identity.js';
import type { RelayHandle } from '../support/relay.js';
import { relayWithTwoAccounts } from '../support/two-accounts.js';

let relay: RelayHandle;
let alice: TestAccount;
let bob: TestAccount;

beforeAll(async () => {
  ({ relay, alice, bob } = await relayWithTwoAccounts());
});
afterAll(async () => relay.close());

describe('socket handshake', () => {
  it('accepts a fresh signed handshake and several sockets per device', async () => {
    const s1 = await connectDevice(relay.url, alice.devices[0]!);
    const s2 = await connectDevice(relay.url, alice.devices[0]!);
    expect(s1.connected && s2.connected).toBe(true);
    s1.close();
    s2.close();
  });

  it('refuses a signature by the wrong key with bad_signature', async () => {
    const a = alice.devices[0]!;
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, a, { signWith: generateSigningKeyPair().privateKey }))).toBe('bad_signature');
    // Bob's key cannot open Alice's device either.
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, a, { signWith: bob.devices[0]!.keys.privateKey }))).toBe('bad_signature');
  });

  it('refuses a handshake signed for another relay host', async () => {
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, alice.devices[0]!, { relayHost: 'evil.example:443' }))).toBe('bad_signature');
  });

  it('refuses stale and future timestamps with stale_timestamp', async () => {
    const a = alice.devices[0]!;
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, a, { timestamp: Date.now() - 61_000 }))).toBe('stale_timestamp');
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, a, { timestamp: Date.now() + 61_000 }))).toBe('stale_timestamp');
  });

  it('refuses a replayed nonce with replayed_nonce', async () => {
    const auth = handshakeAuth(relay.url, alice.devices[0]!);
    expect(await refusalCode(relay.url, auth)).toBe('connected');
    expect(await refusalCode(relay.url, auth)).toBe('replayed_nonce');
    // Same nonce, freshly signed with a new timestamp: still a replay.
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, alice.devices[0]!, { nonce: auth.nonce }))).toBe('replayed_nonce');
  });

  it('refuses an unregistered device with unknown_device', async () => {
    const stranger = (await makeAccount()).devices[0]!;
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, stranger))).toBe('unknown_device');
  });

  it('refuses malformed auth with invalid', async () => {
    const good = handshakeAuth(relay.url, alice.devices[0]!);
    const bad: unknown[] = [
      { v: 2 },
      { ...good, deviceId: 42 },
      { ...good, timestamp: String(good.timestamp) },
      { ...good, timestamp: 1.5 },
      { ...good, nonce: 'short' },
      { ...good, signature: 'x'.repeat(86) + '=' },
      { ...good, signature: null },
      { ...good, extra: true },
      { ...good, deviceId: 'A'.repeat(43) }, // not canonical / not a curve point
    ];
    for (const auth of bad) expect(await refusalCode(relay.url, auth ?? {}), JSON.stringify(auth)).toMatch(/^(invalid|bad_signature)$/);
    expect(await refusalCode(relay.url, { ...good, deviceId: 42 })).toBe('invalid');
    // No auth, or no version in it: a v1 client is told to update (versions.test.ts).
    expect(await refusalCode(relay.url, {})).toBe('unsupported_version');
  });

  it('gives no way to receive or delete another device queue', async () => {
    const b = bob.devices[0]!;
    const sa = await connectDevice(relay.url, alice.devices[0]!);
    const secret = envelopeTo(b, 'for bob only');
    expect(await send(sa, secret)).toEqual({ ok: true, failed: [] });
    // Alice acks everything she can name: it only ever touches her own queue.
    expect(await ack(sa, { upTo: Number.MAX_SAFE_INTEGER })).toEqual({ ok: true, deleted: 0 });
    expect(await ack(sa, { ids: [secret.id] })).toEqual({ ok: true, deleted: 0 });
    expect((await relay.app.store.queueStats(b.id)).envelopes).toBe(1);
    // Handshake claiming Bob's id with Alice's key: refused; Alice's own socket never sees it.
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, b, { signWith: alice.devices[0]!.keys.privateKey }))).toBe('bad_signature');
    const { socket: sa2, inbox } = await connectInbox(relay.url, alice.devices[0]!);
    await inbox.until((i) => i.prekeyCounts.length > 0);
    await quietPeriod(150);
    expect(inbox.envelopes.map((e) => e.id)).not.toContain(secret.id);
    // Bob still gets it.
    const { socket: sb, inbox: bobInbox } = await connectInbox(relay.url, b);
    await bobInbox.waitForCount(1);
    expect(bobInbox.envelopes[0]!.id).toBe(secret.id);
    expect(await ack(sb, { ids: [secret.id] })).toEqual({ ok: true, deleted: 1 });
    for (const s of [sa, sa2, sb]) s.close();
    expect(randomId()).toHaveLength(22);
  });
});
