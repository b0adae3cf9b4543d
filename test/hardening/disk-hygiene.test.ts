/**
 * Disk hygiene behind a reverse proxy: with --trust-proxy every request and socket comes "from"
 * 203.0.113.77 (X-Forwarded-For). The per-IP limits prove the relay saw that address; after a
 * full scenario nothing the relay wrote (SQLite's files, the queue log, the nonce journal, the
 * log) holds it — as text, encoded, or as its 4 raw bytes — nor 127.0.0.1, the plaintext, or the
 * senders of stored envelopes.
 * Extends test/relay/privacy.test.ts (columns and tables) with addresses and a proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ack, envelopeTo, Inbox, openFor, send } from '../support/envelopes.js';
import { call, claimBundle, handshakeAuth, makeAccount, openSocket, registration, signList, type ClientSocket, type TestAccount, type TestDevice } from '../support/identity.js';
import { expectNoNeedles, relaySources, type NeedleInput } from '../support/privacy-scan.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

const CLIENT_IP = '203.0.113.77';
const OTHER_IP = '203.0.113.78';
const MARKER = 'HYGIENE-PLAINTEXT-51c2e0';

let relay: RelayHandle;
let alice: TestAccount;
let bob: TestAccount;

beforeAll(async () => {
  relay = await startRelay({ trustProxy: ['127.0.0.1', '10.0.0.1'], logLevel: 'trace', ipRateLimitPerMinute: 5, maxConnectionsPerIp: 2 });
  alice = await makeAccount();
  bob = await makeAccount();
});
afterAll(async () => relay.close());

const viaProxy = (ip = CLIENT_IP): Record<string, string> => ({ 'x-forwarded-for': `${ip}, 10.0.0.1` });

function connectViaProxy(device: TestDevice, ip = CLIENT_IP): Promise<{ socket: ClientSocket; inbox: Inbox }> {
  const socket = openSocket(relay.url, handshakeAuth(relay.url, device), { extraHeaders: viaProxy(ip) });
  const inbox = new Inbox(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve({ socket, inbox }));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** The addresses as text (in every encoding) and as their 4 raw bytes, the marker, and `senders`. */
function needles(senders: string[]): NeedleInput[] {
  const ips = [CLIENT_IP, OTHER_IP, '127.0.0.1'];
  return [...ips, MARKER, ...senders, ...ips.map((ip) => ({ name: `raw ${ip}`, bytes: Buffer.from(ip.split('.').map(Number)), exact: true }))];
}

describe('disk hygiene behind a proxy', () => {
  it('keeps client addresses, plaintext and senders off disk and out of the log', async () => {
    // Two registrations, then five bundle claims: each route's per-IP budget is 5 a minute.
    for (const account of [alice, bob]) {
      const d = account.devices[0]!;
      const body = { handle: account.handle, identityKey: account.identityKey, device: registration(d), deviceList: signList(account, [d], 1) };
      const r = await call(relay.url, { method: 'POST', path: '/v2/accounts', body, device: d.keys, headers: viaProxy() });
      expect(r.status).toBe(201);
    }
    const claim = (ip?: string) => claimBundle(relay.url, alice.devices[0]!, bob.devices[0]!.id, viaProxy(ip));
    for (let i = 0; i < 5; i++) expect((await claim()).status).toBe(200);
    // The relay did use the forwarded address: the same IP is now limited, another is not.
    expect((await claim()).status).toBe(429);
    expect((await claim(OTHER_IP)).status).toBe(200);

    const a = alice.devices[0]!;
    const b = bob.devices[0]!;
    const { socket: sa, inbox: inboxA } = await connectViaProxy(a);
    const { socket: sb, inbox } = await connectViaProxy(b);
    // Sockets are counted by the forwarded address too: a third from .77 is refused, .78 gets in.
    await expect(connectViaProxy(a)).rejects.toThrow('rate_limited');
    const fromOther = await connectViaProxy(a, OTHER_IP);
    fromOther.socket.close();

    const texts = Array.from({ length: 4 }, (_, i) => `${MARKER} #${i} from ${alice.handle}/${a.id}`);
    for (const t of texts.slice(0, 2)) expect(await send(sa, envelopeTo(b, t))).toEqual({ ok: true, failed: [] });
    await inbox.waitForCount(2);
    expect(inbox.envelopes.map((e) => openFor(b, e.body))).toEqual(texts.slice(0, 2));
    expect(await ack(sb, { upTo: inbox.envelopes[1]!.seq! })).toEqual({ ok: true, deleted: 2 });
    expect(await send(sb, envelopeTo(a, `${MARKER} reply from ${bob.handle}/${b.id}`))).toEqual({ ok: true, failed: [] });
    await inboxA.waitForCount(1);
    sb.close();
    // Two stay queued for the offline recipient: on disk now, with no trace of their sender.
    for (const t of texts.slice(2)) expect(await send(sa, envelopeTo(b, t))).toEqual({ ok: true, failed: [] });
    sa.close();
    expect((await relay.app.store.queueStats(b.id)).envelopes).toBe(2);

    // Every file the relay wrote (test/support/privacy-scan.ts: SQLite's files, the queue log,
    // the nonce journal, the log). Alice's id is stored as her own device (devices table), so
    // only her handle-and-id pairing inside the seal and Alice as *sender* are checked through
    // the marker and the queue rows.
    await expectNoNeedles(relaySources(relay), needles([`${alice.handle}/${a.id}`]));
    expect(relay.logs.length).toBeGreaterThan(10);
    await expectNoNeedles({ files: [relay.logPath], captured: { 'relay log lines': relay.logs } }, needles([a.id, b.id, alice.handle, bob.handle, 'x-forwarded-for']));

    // And after a clean shutdown (WAL checkpointed into the main file, the queue log gone).
    await relay.close({ keepData: true });
    await expectNoNeedles(relaySources(relay, { queueLog: false }), needles([`${alice.handle}/${a.id}`]));
  });
});
