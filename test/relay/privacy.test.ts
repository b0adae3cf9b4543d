/**
 * After a full exchange, nothing the relay wrote (test/support/privacy-scan.ts: SQLite's main,
 * -wal and -shm, the queue log in front of it, the nonce journal, the logs) contains the
 * plaintext markers put inside the sealed bodies, and stored envelopes carry no sender id.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ack, connectInbox, envelopeTo, openFor, send } from '../support/envelopes.js';
import { makeAccount, registerAll, type TestAccount } from '../support/identity.js';
import { expectNoNeedles, relaySources } from '../support/privacy-scan.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

let relay: RelayHandle;
let alice: TestAccount;
let bob: TestAccount;
const MARKER = 'PLAINTEXT-MARKER-7f3a9c';

beforeAll(async () => {
  relay = await startRelay({ logLevel: 'trace' });
  alice = await makeAccount();
  bob = await makeAccount();
  await registerAll(relay.url, alice);
  await registerAll(relay.url, bob);
});
afterAll(async () => relay.close());

describe('what the relay keeps', () => {
  it('stores and logs no plaintext, no sender, no IP address', async () => {
    const a = alice.devices[0]!;
    const b = bob.devices[0]!;
    const { socket: sa, inbox: inboxA } = await connectInbox(relay.url, a);
    // Inside the seal, as a real client would put it: the sender's ids and the text.
    const texts = Array.from({ length: 6 }, (_, i) => `${MARKER} #${i} from ${alice.handle}/${a.id}`);
    for (const t of texts.slice(0, 3)) expect(await send(sa, envelopeTo(b, t))).toEqual({ ok: true, failed: [] });
    const { socket: sb, inbox } = await connectInbox(relay.url, b);
    await inbox.waitForCount(3);
    expect(inbox.envelopes.map((e) => openFor(b, e.body))).toEqual(texts.slice(0, 3));
    expect(await ack(sb, { upTo: inbox.envelopes[2]!.seq! })).toEqual({ ok: true, deleted: 3 });
    expect(await send(sb, envelopeTo(a, `${MARKER} reply from ${bob.handle}/${b.id}`))).toEqual({ ok: true, failed: [] });
    await inboxA.waitForCount(1);
    expect(await ack(sa, { ids: [inboxA.envelopes[0]!.id] })).toEqual({ ok: true, deleted: 1 });
    sb.close();
    // Three more stay queued for the offline recipient: these are on disk right now.
    for (const t of texts.slice(3)) expect(await send(sa, envelopeTo(b, t))).toEqual({ ok: true, failed: [] });
    sa.close();

    // Everything the relay wrote (its data directory: SQLite's files, the queue log, the nonce
    // journal, the log) while the three wait in the queue log, and again after a graceful stop
    // has moved them into SQLite's queue table (and removed the queue log).
    const needles = [MARKER, ...texts, `${alice.handle}/${a.id}`, `${bob.handle}/${b.id}`];
    await expectNoNeedles(relaySources(relay), needles);
    await relay.close({ keepData: true });
    await expectNoNeedles(relaySources(relay, { queueLog: false }), needles);

    // The queue table: exactly the columns DESIGN.md allows, and no sender id in any of them.
    const db = new Database(relay.dbPath, { readonly: true, fileMustExist: true });
    const columns = (db.prepare('PRAGMA table_info(queue)').all() as { name: string }[]).map((c) => c.name).sort();
    expect(columns).toEqual(['body', 'device_id', 'envelope_id', 'expires_at', 'seq', 'size']);
    const rows = db.prepare('SELECT * FROM queue').all() as Record<string, unknown>[];
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      expect(row.device_id).toBe(b.id);
      for (const value of Object.values(row)) {
        const text = Buffer.isBuffer(value) ? value.toString('latin1') : String(value);
        expect(text).not.toContain(a.id);
        expect(text).not.toContain(alice.handle);
        expect(text).not.toContain(MARKER);
      }
      // The body is the sealed bytes, nothing more.
      expect(Buffer.isBuffer(row.body) && row.size === (row.body as Buffer).length).toBe(true);
    }
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name).sort();
    // push_subscriptions: a device's Web Push endpoint and keys, only once it enabled push (none here).
    expect(tables).toEqual(['accounts', 'devices', 'one_time_prekeys', 'push_subscriptions', 'queue']);
    db.close();

    // The logs: structured, no markers, no device ids or handles, no IP addresses.
    expect(relay.logs.filter((l) => l.includes('socket_connected')).length).toBeGreaterThanOrEqual(2);
    expect(relay.logs.filter((l) => l.includes('"event":"send"')).length).toBeGreaterThanOrEqual(7);
    for (const line of relay.logs) expect(() => JSON.parse(line)).not.toThrow();
    await expectNoNeedles({ files: [relay.logPath], captured: { 'relay log lines': relay.logs } }, [MARKER, a.id, b.id, alice.handle, bob.handle, '127.0.0.1', 'remoteAddress', '"body"']);
  });
});
