/**
 * What only the PostgreSQL store has to show (the shared behaviour is store-contract.test.ts):
 * sessions that commit synchronously, several relay processes (each with its own pool)
 * numbering one device's queue at once, and PostgreSQL going away and coming back under an open
 * store.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgPool } from '../../server/store/postgres/pool.js';
import { PostgresStore } from '../../server/store/postgres/postgres-store.js';
import { StoreUnavailableError, type EnqueueItem, type EnqueueOutcome } from '../../server/store/store.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { someAccount, someDevice, someList } from '../support/store-records.js';

let cluster: TestPostgres;
beforeAll(async () => {
  cluster = await startTestPostgres();
});
afterAll(async () => {
  await cluster?.stop();
});

const [A, B] = ['a', 'b'].map((c) => c.repeat(43)) as [string, string];
const roomy = { maxEnvelopes: 10_000, maxBytes: 1e8 };
const item = (to: string, id: string): EnqueueItem => ({ to, id, body: new Uint8Array(10), expiresAt: Date.now() + 60_000 });
const seqOf = (o: EnqueueOutcome): number => (o.status === 'stored' ? o.seq : NaN);
const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('sessions', () => {
  it('commit synchronously whatever the database default says, keeping the options the URL gives', async () => {
    const url = await cluster.createDatabase();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`ALTER DATABASE ${new URL(url).pathname.slice(1)} SET synchronous_commit = off`);
    await admin.end();
    const settings = "SELECT current_setting('synchronous_commit') AS commit, current_setting('application_name') AS name";
    const plain = new pg.Client({ connectionString: `${url}?application_name=plain` });
    await plain.connect();
    expect((await plain.query(settings)).rows).toEqual([{ commit: 'off', name: 'plain' }]);
    await plain.end();
    const pool = new PgPool(`${url}?options=${encodeURIComponent('-c application_name=node-7')}`);
    expect(await pool.query({ text: settings })).toEqual([{ commit: 'on', name: 'node-7' }]);
    await pool.end();
  });
});

describe('several processes at once', () => {
  it('numbers one device contiguously from three pools, commits in sequence order, and never deadlocks', async () => {
    const url = await cluster.createDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => PostgresStore.open(url, { maxConnections: 4 })));
    const [first] = stores as [PostgresStore];
    expect(await first.createAccount(someAccount('ann', A), someDevice(A, 'ann'), [])).toBe(true);
    expect(await first.addDevice(someDevice(B, 'ann'), [], someList('ann', [A, B], 2), 6)).toMatchObject({ status: 'added' });

    // A reader polling all along: commit order = sequence order means every page it reads is
    // 1..k with no hole, however the writers' transactions interleave.
    let writing = true;
    const holes: number[][] = [];
    const reader = (async () => {
      while (writing) {
        const seqs = (await first.readQueue(A, 0, 10_000, Date.now())).map((e) => e.seq);
        if (seqs.some((seq, i) => seq !== i + 1)) holes.push(seqs);
      }
    })();
    // Batches name the two devices in both orders: locks taken in id order cannot deadlock.
    const PER_STORE = 40;
    const batches = stores.flatMap((store, s) =>
      Array.from({ length: PER_STORE }, (_, i) => {
        const pair = [item(A, `${s}-${i}`), item(B, `${s}-${i}`)];
        return { store, items: i % 2 ? pair : pair.reverse() };
      }),
    );
    const outcomes = await Promise.all(batches.map((b) => b.store.enqueue(b.items, roomy))).finally(() => (writing = false));
    await reader;

    const total = stores.length * PER_STORE;
    const seqsOf = (deviceId: string) => batches.flatMap((b, k) => b.items.flatMap((it, j) => (it.to === deviceId ? [seqOf(outcomes[k]![j]!)] : [])));
    expect(seqsOf(A).sort((x, y) => x - y)).toEqual(oneToN(total));
    expect(seqsOf(B).sort((x, y) => x - y)).toEqual(oneToN(total));
    expect((await first.readQueue(A, 0, 10_000, Date.now())).map((e) => e.seq)).toEqual(oneToN(total));
    expect(holes).toEqual([]);
    expect(await first.queueStats(A)).toEqual({ envelopes: total, bytes: 10 * total });
    // The next number continues where the three processes left off.
    expect(await stores[2]!.enqueue([item(A, 'last')], roomy)).toEqual([{ status: 'stored', seq: total + 1 }]);
    await Promise.all(stores.map((s) => s.close()));
  });
});

describe('acks ride with enqueues', () => {
  // The next transaction id PostgreSQL will hand out, read without taking one: how many
  // transactions wrote in between.
  const nextXid = async (pool: PgPool) => Number((await pool.query<{ xmax: string }>({ text: 'SELECT txid_snapshot_xmax(txid_current_snapshot()) AS xmax' }))[0]?.xmax);

  it('writes an ack and an enqueue of the same moment in one transaction, the ack first, and tells each ack its own count', async () => {
    const url = await cluster.createDatabase();
    const store = await PostgresStore.open(url);
    const probe = new PgPool(url);
    expect(await store.createAccount(someAccount('ann', A), someDevice(A, 'ann'), [])).toBe(true);
    expect(await store.addDevice(someDevice(B, 'ann'), [], someList('ann', [A, B], 2), 6)).toMatchObject({ status: 'added' });
    const full = { maxEnvelopes: 2, maxBytes: 1e8 };
    expect((await store.enqueue([item(A, 'a1'), item(A, 'a2'), item(B, 'b1')], full)).map(seqOf)).toEqual([1, 2, 1]);

    // A's queue is full: only the ack made just before frees room for a3, so a3 stored proves
    // the ack was applied in (or before) the enqueue's transaction — and one transaction wrote.
    const before = await nextXid(probe);
    const acks = [store.ackUpTo(A, 1), store.ackUpTo(A, 2), store.ackUpTo(B, 1)];
    const stored = store.enqueue([item(A, 'a3')], full);
    expect(await Promise.all(acks)).toEqual([1, 1, 1]);
    expect((await stored).map(seqOf)).toEqual([3]);
    expect((await nextXid(probe)) - before).toBe(1);
    expect(await store.queueStats(A)).toEqual({ envelopes: 1, bytes: 10 });
    expect(await store.queueStats(B)).toEqual({ envelopes: 0, bytes: 0 });

    // With no enqueue under way an ack goes alone, and is still answered after its commit.
    const alone = await nextXid(probe);
    expect(await store.ackUpTo(A, 3)).toBe(1);
    expect((await nextXid(probe)) - alone).toBe(1);
    expect(await store.readQueue(A, 0, 10, Date.now())).toEqual([]);
    await probe.end();
    await store.close();
  });
});

describe('queue writes by key', () => {
  it('reach queue and device rows through their indexes even where the planner would rather scan the tables', async () => {
    // Tables the planner would rather scan: a devices table of one page, and a queue whose
    // statistics say it holds the rows of two devices. With plans of its own choosing (migration
    // 9), the ack's DELETE read the whole queue and the devices' UPDATE every device; in the
    // cluster benchmark, stale statistics made it do so on larger tables too.
    const url = await cluster.createDatabase();
    const store = await PostgresStore.open(url);
    const [to, ackedA, ackedB] = ['c', 'd', 'e'].map((c) => c.repeat(43)) as [string, string, string];
    for (const [i, id] of [to, ackedA, ackedB].entries()) expect(await store.createAccount(someAccount(`user${i}`, id), someDevice(id, `user${i}`), [])).toBe(true);
    for (let round = 0; round < 6; round++) {
      await store.enqueue(Array.from({ length: 1000 }, (_, i) => item(i % 2 ? ackedA : ackedB, `e${round}-${i}`)), roomy);
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query('ANALYZE');

    // One call as a node makes it: an envelope for one device, acks for two others. The
    // transaction's own table statistics count how each table was read.
    await client.query('BEGIN');
    const { rows } = await client.query<{ outcome: string[]; acked_devices: string[] }>(
      `SELECT outcome, acked_devices FROM sealpost_write_queue($1, $2, $3, $4, $5, 10000, 100000000, NULL, $6, $7)`,
      [[to], ['new'], [10], [Date.now() + 60_000], Buffer.alloc(10), [ackedA, ackedB], [5, 3000]],
    );
    const reads = await client.query<{ relname: string; seq_scan: string; idx_scan: string }>(
      "SELECT relname, seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname IN ('queue', 'devices') ORDER BY relname",
    );
    await client.query('ROLLBACK');
    await client.end();
    await store.close();

    expect(rows[0]?.outcome.map(Number)).toEqual([1]);
    expect(rows[0]?.acked_devices).toHaveLength(3005);
    expect(reads.rows.map((r) => ({ table: r.relname, scans: Number(r.seq_scan), byIndex: Number(r.idx_scan) > 0 }))).toEqual([
      { table: 'devices', scans: 0, byIndex: true },
      { table: 'queue', scans: 0, byIndex: true },
    ]);
  });
});

describe('PostgreSQL going away', () => {
  const PASSWORD = 'hunter2-do-not-print';
  const withPassword = (url: string) => url.replace('postgres@', `postgres:${PASSWORD}@`);
  const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

  function expectUnavailable(error: unknown, what = 'the call'): void {
    expect(error, `${what} was refused unavailable`).toBeInstanceOf(StoreUnavailableError);
    const { code, message, cause } = error as StoreUnavailableError;
    expect(code).toBe('unavailable');
    expect(message).toMatch(/^PostgreSQL is unavailable \(.+\); try again later$/);
    expect(`${message} ${String(cause)} ${JSON.stringify(cause)}`).not.toContain(PASSWORD);
  }

  it('refuses with unavailable while PostgreSQL is down and works again once it is back, without reopening', async () => {
    const url = withPassword(await cluster.createDatabase());
    const store = await PostgresStore.open(url);
    /** Held enqueues answered stored despite the shutdown (see below). */
    const held: { id: string; seq: number }[] = [];
    expect(await store.createAccount(someAccount('ann', A), someDevice(A, 'ann'), [{ keyId: 1, publicKey: 'p' }])).toBe(true);
    expect(await store.enqueue([item(A, 'before')], roomy)).toEqual([{ status: 'stored', seq: 1 }]);

    // Three enqueues in flight when the server goes: each waits, inside its transaction, for the
    // device row that another session holds locked. Each is refused — or, when the shutdown ends
    // the holder's session before theirs and one commits in between (seen once in CI on a loaded
    // machine), answered stored, and then it must be in the queue afterwards.
    const holder = new pg.Client({ connectionString: url });
    holder.on('error', () => undefined);
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM devices WHERE device_id = $1 FOR UPDATE', [A]);
    const inFlight = [1, 2, 3].map((i) => store.enqueue([item(A, `held-${i}`)], roomy).then((outcomes) => ({ outcomes }), (error: unknown) => ({ error })));
    const waiting = async () => {
      // pg_stat_activity is read once per transaction unless the snapshot is cleared.
      await holder.query('SELECT pg_stat_clear_snapshot()');
      return Number((await holder.query("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).rows[0].n);
    };
    await expect.poll(waiting).toBe(3);

    await cluster.stopPostgres();
    try {
      const attempts = {
        enqueue: store.enqueue([item(A, 'during')], roomy),
        readQueue: store.readQueue(A, 0, 10, Date.now()),
        ackUpTo: store.ackUpTo(A, 1),
        getAccount: store.getAccount('ann'),
        claimBundle: store.claimBundle(A),
        publishDeviceList: store.publishDeviceList('ann', someList('ann', [A], 2)),
        relayStats: store.relayStats(),
        isWritable: store.isWritable(),
        open: PostgresStore.open(url),
      };
      const refusals = Object.entries(attempts).map(([what, attempt]) => [what, refusal(attempt)] as const);
      for (const [what, error] of refusals) expectUnavailable(await error, what);
      for (const [i, answer] of (await Promise.all(inFlight)).entries()) {
        if ('error' in answer) expectUnavailable(answer.error, `held enqueue ${i + 1}`);
        else held.push(...answer.outcomes.map((o) => ({ id: `held-${i + 1}`, seq: seqOf(o) })));
      }
    } finally {
      await cluster.startPostgres();
    }

    expect(await store.isWritable()).toBe(true);
    // Nothing refused above was half-written, and whatever was answered stored is there: the
    // next number follows them, the prekey is still there. (Had a connection's 'error' event gone
    // unheard when the server left, the process had died.)
    expect(held.map((h) => h.seq).sort()).toEqual(held.map((_, i) => i + 2));
    expect(await store.enqueue([item(A, 'after')], roomy)).toEqual([{ status: 'stored', seq: 2 + held.length }]);
    const stored = held.sort((x, y) => x.seq - y.seq).map((h) => h.id);
    expect((await store.readQueue(A, 0, 10, Date.now())).map((e) => e.id)).toEqual(['before', ...stored, 'after']);
    expect((await store.claimBundle(A))?.oneTimePrekey).toEqual({ keyId: 1, publicKey: 'p' });
    await store.close();
  });

  it('tells a lost, refused or full server from a failure, and masks the password', async () => {
    const pool = new PgPool(`postgres://postgres:${PASSWORD}@127.0.0.1:1/db`);
    const refused = Object.assign(new AggregateError([], ''), { code: 'ECONNREFUSED' });
    expect(pool.translate(refused)).toMatchObject({ code: 'unavailable', message: 'PostgreSQL is unavailable (ECONNREFUSED); try again later' });
    expectUnavailable(pool.translate(Object.assign(new Error(`getaddrinfo ENOTFOUND ${PASSWORD}@db`), { code: 'ENOTFOUND' })));
    expectUnavailable(pool.translate(Object.assign(new pg.DatabaseError('could not extend file: No space left on device', 0, 'error'), { code: '53100' })));
    const taken = Object.assign(new pg.DatabaseError('duplicate key value violates unique constraint', 0, 'error'), { code: '23505' });
    const bug = new TypeError('x is undefined');
    expect(pool.translate(taken)).toBe(taken);
    expect(pool.translate(bug)).toBe(bug);
    await pool.end();
  });

  it('says what is wrong with a URL without repeating it', async () => {
    const error = await refusal(PostgresStore.open(`postgres://postgres:${PASSWORD}@[not-a-host/db`));
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('the PostgreSQL URL is not a valid postgres:// URL');
    expect((error as Error).cause).toBeUndefined();
    expect(((await refusal(PostgresStore.open('mysql://localhost/db'))) as Error).message).toMatch(/must start with postgres:\/\//);
  });
});
