/**
 * The privacy scan (test/support/privacy-scan.ts) can fail: it finds a needle a real relay wrote
 * into its queue log, needles planted in a WAL file and other files in every encoding, in a
 * PostgreSQL dump (test/support/postgres.ts) and in every kind of Redis key — and a walk that
 * finds no database or no queue-log file fails by itself.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connectInbox, envelopeTo, send } from '../support/envelopes.js';
import { makeAccount, randomId, registerAll } from '../support/identity.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { dataDirSources, expectNoNeedles, relaySources, scanForNeedles, storedBodies, type ScanReport } from '../support/privacy-scan.js';
import { startRedis, type RedisHandle } from '../support/redis.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

const NEEDLE = 'PRIVACY-SCAN-NEEDLE-4b1e';
const dirs: string[] = [];
let relay: RelayHandle | undefined;
let redis: RedisHandle | undefined;
let postgres: TestPostgres | undefined;
afterAll(async () => {
  await relay?.close();
  await redis?.stop();
  await postgres?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-scan-'));
  dirs.push(dir);
  return dir;
}

const found = (report: ScanReport) => report.hits.map((hit) => `${hit.encoding} ${basename(hit.where)}`).sort();

describe('the privacy scan', () => {
  it('finds a needle a running relay wrote into its queue log, and passes before it was there', async () => {
    relay = await startRelay();
    const alice = await makeAccount();
    const bob = await makeAccount();
    await registerAll(relay.url, alice);
    await registerAll(relay.url, bob);
    const clean = await expectNoNeedles(relaySources(relay), [NEEDLE]);
    expect(clean.scanned.map((file) => basename(file))).toEqual(expect.arrayContaining(['sealpost.db', expect.stringMatching(/^sealpost\.db-queue-\d+$/), 'relay.log']));

    // The relay is blind: a body that is not sealed is stored as it comes, for offline bob.
    const { socket } = await connectInbox(relay.url, alice.devices[0]!);
    expect(await send(socket, envelopeTo(bob.devices[0]!, 'unused', { body: new TextEncoder().encode(`unsealed ${NEEDLE} body`) }))).toEqual({ ok: true, failed: [] });
    socket.close();
    const report = await scanForNeedles(relaySources(relay), [NEEDLE]);
    expect(report.hits.some((hit) => hit.encoding === 'utf8' && /sealpost\.db-queue-\d+$/.test(hit.where))).toBe(true);
    await expect(expectNoNeedles(relaySources(relay), [NEEDLE])).rejects.toThrow(/as utf8 in .*sealpost\.db-queue-\d+/);
    expect(storedBodies(relay.dbPath).some((body) => body.includes(NEEDLE))).toBe(true);
  });

  it('finds needles in a WAL file and a nested file in every encoding and alignment', async () => {
    const dir = tempDir();
    // A key whose base64 holds + and / at every alignment, so its base64url form differs.
    const key = Buffer.concat([Buffer.alloc(8, 0xfb), randomBytes(24)]);
    writeFileSync(join(dir, 'sealpost.db'), randomBytes(4096));
    writeFileSync(join(dir, 'sealpost.db-queue-1'), Buffer.alloc(4096));
    const sources = dataDirSources(join(dir, 'sealpost.db'));
    expect((await scanForNeedles(sources, [NEEDLE, key])).hits).toEqual([]);

    // Inside longer encoded values, at each of the three base64 alignments.
    for (const shift of [0, 1, 2]) {
      const wal = Buffer.concat([randomBytes(100), Buffer.from(Buffer.concat([randomBytes(shift), Buffer.from(NEEDLE), randomBytes(5)]).toString('base64')), randomBytes(100)]);
      writeFileSync(join(dir, 'sealpost.db-wal'), wal);
      expect(found(await scanForNeedles(sources, [NEEDLE])), `shift ${shift}`).toEqual(['base64 sealpost.db-wal']);
    }
    writeFileSync(join(dir, 'sealpost.db-wal'), Buffer.concat([randomBytes(7), Buffer.from(`x${key.toString('base64url')}y`)]));
    mkdirSync(join(dir, 'spill/deeper'), { recursive: true });
    writeFileSync(join(dir, 'spill/deeper/blob'), `\\x00${Buffer.from(NEEDLE).toString('hex')}`);
    writeFileSync(join(dir, 'sealpost.db-nonces'), Buffer.from(NEEDLE).toString('hex').toUpperCase());
    writeFileSync(join(dir, 'sealpost.db-shm'), Buffer.from([1, 203, 0, 113, 77, 2]));
    const log = join(tempDir(), 'elsewhere.log');
    const quoted = `she wrote "${NEEDLE}"`;
    writeFileSync(log, `${JSON.stringify({ msg: quoted })}\n`);
    const report = await scanForNeedles({ ...sources, files: [log], captured: { stdout: [`line ${NEEDLE}`] } }, [
      NEEDLE, { name: 'device key', bytes: key }, { name: 'quoted', bytes: quoted }, { name: 'raw 203.0.113.77', bytes: Buffer.from([203, 0, 113, 77]), exact: true },
    ]);
    expect(found(report)).toEqual(['HEX sealpost.db-nonces', 'base64url sealpost.db-wal', 'hex blob', 'json elsewhere.log', 'utf8 captured stdout', 'utf8 elsewhere.log', 'utf8 sealpost.db-shm']);
    expect(report.hits.find((hit) => hit.where.endsWith('-wal'))?.needle).toBe('device key');
    expect(report.hits.find((hit) => hit.encoding === 'json')?.needle).toBe('quoted');
  });

  it('fails when the walk finds nothing, or not the database and a queue-log file', async () => {
    const empty = tempDir();
    await expect(expectNoNeedles(dataDirSources(join(empty, 'sealpost.db')), [NEEDLE])).rejects.toThrow(/files the scan must cover are missing .*found: none/);
    await expect(expectNoNeedles({ dataDir: empty }, [NEEDLE])).rejects.toThrow(/no files under/);
    writeFileSync(join(empty, 'sealpost.db'), 'x');
    await expect(expectNoNeedles(dataDirSources(join(empty, 'sealpost.db')), [NEEDLE])).rejects.toThrow(/sealpost\\\.db-queue-/);
    await expect(expectNoNeedles(dataDirSources(join(empty, 'sealpost.db'), { queueLog: false }), [NEEDLE])).resolves.toBeDefined();
    // A shared directory is never walked, and a needle too short to search encoded is refused.
    await expect(scanForNeedles({ dataDir: tmpdir() }, [NEEDLE])).rejects.toThrow(/refusing to walk/);
    await expect(scanForNeedles({ captured: { x: '' } }, ['alice'])).rejects.toThrow(/at least 6/);
  });

  it('finds a needle in a PostgreSQL dump: text as is, bytea as hex, jsonb escaped', async () => {
    postgres = await startTestPostgres();
    const url = await postgres.createDatabase('privacy_scan');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('CREATE TABLE clean (id int, body bytea)');
      await client.query('INSERT INTO clean VALUES (1, $1)', [randomBytes(64)]);
      const clean = await expectNoNeedles({ postgresUrl: url }, [NEEDLE]);
      expect(clean.scanned).toEqual(['pg_dump privacy_scan (1 tables)']);

      const quoted = `say "${NEEDLE}"`;
      await client.query('CREATE TABLE envelopes (id text, body bytea, note text, meta jsonb)');
      await client.query('INSERT INTO envelopes VALUES ($1, $2, NULL, NULL)', ['e1', Buffer.from(`..${NEEDLE}..`)]);
      await client.query('INSERT INTO envelopes VALUES ($1, NULL, $2, NULL)', ['e2', `a note with ${NEEDLE} in it`]);
      await client.query('INSERT INTO envelopes VALUES ($1, NULL, NULL, $2)', ['e3', JSON.stringify({ q: quoted })]);
      const report = await scanForNeedles({ postgresUrl: url }, [NEEDLE, { name: 'quoted', bytes: quoted }]);
      expect(report.hits.map((hit) => `${hit.needle === NEEDLE ? 'needle' : hit.needle} ${hit.encoding} ${hit.where}`).sort()).toEqual([
        'needle hex pg_dump privacy_scan table public.envelopes',
        'needle utf8 pg_dump privacy_scan table public.envelopes',
        'quoted json pg_dump privacy_scan table public.envelopes',
      ]);
      await expect(expectNoNeedles({ postgresUrl: url }, [NEEDLE])).rejects.toThrow(/as hex in pg_dump privacy_scan table public\.envelopes/);
    } finally {
      await client.end();
    }
  });

  it('finds a needle in every kind of Redis key, and in key names', async () => {
    redis = await startRedis();
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    await client.connect();
    try {
      await client.set('clean:string', randomId());
      await client.hset('clean:hash', 'field', randomId());
      expect((await scanForNeedles({ redisUrl: redis.url }, [NEEDLE])).hits).toEqual([]);

      const planted = Buffer.from(`..${NEEDLE}..`);
      await client.set('s', Buffer.from(planted.toString('base64')));
      await client.rpush('l', 'a', planted);
      await client.sadd('set', planted);
      await client.zadd('z', 1, planted);
      await client.hset('h', 'f', planted.toString('hex'));
      await client.xadd('x', '*', 'body', planted);
      await client.select(3);
      await client.set(`key:${NEEDLE}`, 'value');
      const report = await scanForNeedles({ redisUrl: redis.url }, [NEEDLE]);
      expect(report.hits.map((hit) => `${hit.encoding} ${hit.where}`).sort()).toEqual([
        'base64 redis db0 string key "s"',
        'hex redis db0 hash key "h"',
        'utf8 redis db0 list key "l"',
        'utf8 redis db0 set key "set"',
        'utf8 redis db0 stream key "x"',
        'utf8 redis db0 zset key "z"',
        `utf8 redis db3 string key "key:${NEEDLE}"`,
      ]);
      await expect(expectNoNeedles({ redisUrl: redis.url }, [NEEDLE])).rejects.toThrow(/needles found/);
    } finally {
      client.disconnect();
    }
  });
});
