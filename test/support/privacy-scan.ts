/**
 * The one privacy scan of the test suites: looks for needles (plaintexts, secret keys, sender
 * ids) in everything a relay writes, so a check cannot silently stop covering a file when storage
 * moves (STYLE.md, "our own v1", 4).
 *
 * Sources:
 * - the relay's data directory (the database file's directory), walked recursively: SQLite's main
 *   file, -wal and -shm, the queue-log files, the nonce journal, a log file, anything else;
 * - further files (a log written elsewhere) and captured output (log lines, a child's stdout);
 * - optionally a PostgreSQL database (`pg_dump --data-only`, plain text) and a Redis server (every
 *   key of every type in every database, read through SCAN; pub/sub keeps nothing).
 *
 * Each needle is searched as its UTF-8 bytes, as base64 and base64url (all three alignments, so
 * a needle inside a longer encoded value is found too), as hex (lower and upper case: pg_dump
 * prints bytea as hex) and, for text, JSON-escaped (log lines). A walk must find the files it is
 * told to expect — by default the database and a queue-log file — so an empty or misplaced walk
 * fails instead of passing.
 *
 *   await expectNoNeedles(relaySources(relay), ['secret text', secretKeyBytes]);
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { decodeRecords } from '../../server/store/sqlite/log-records.js';

/** Shorter needles would be found by chance in encoded form (a base64 fragment of a few characters). */
export const MIN_NEEDLE_BYTES = 6;

/**
 * A string (searched as text), bytes (a key), or named bytes. `exact` searches only the bytes as
 * given, of any length (an IPv4 address's 4 raw bytes): no encodings, so no chance hits.
 */
export type NeedleInput = string | Uint8Array | { name: string; bytes: Uint8Array | string; exact?: boolean };
export type Encoding = 'utf8' | 'base64' | 'base64url' | 'hex' | 'HEX' | 'json';

export interface ScanSources {
  /** The relay's data directory (the database file's directory), walked recursively. */
  dataDir?: string;
  /**
   * File names the walk must find (a name, or a pattern matched against the name); each must
   * match at least one file. Without it, a walk must find at least one file.
   */
  required?: ReadonlyArray<string | RegExp>;
  /** Further files to scan (a log file outside the data directory). */
  files?: readonly string[];
  /** Captured output by name: log lines, a child process's stdout. */
  captured?: Record<string, string | Uint8Array | readonly string[]>;
  /** A PostgreSQL connection URL: its database is dumped with `pg_dump --data-only`. */
  postgresUrl?: string;
  /** A Redis URL: every key of every database is read. */
  redisUrl?: string;
}

export interface Hit {
  needle: string;
  encoding: Encoding;
  /** A file path, `captured <name>`, `pg_dump <db> table <t>` or `redis db<n> <type> key <k>`. */
  where: string;
  offset: number;
}

export interface ScanReport {
  /** Every source scanned: file paths, then `captured …`, `pg_dump …`, `redis …` entries. */
  scanned: string[];
  hits: Hit[];
}

/** The data directory of a relay on `dbPath`, expecting the database and (while it runs) a queue-log file. */
export function dataDirSources(dbPath: string, options: { queueLog?: boolean } = {}): ScanSources {
  const name = basename(dbPath);
  const required: Array<string | RegExp> = [name];
  if (options.queueLog ?? true) required.push(queueLogName(name));
  return { dataDir: dirname(resolve(dbPath)), required };
}

/** Queue-log files are `<db>-queue-<generation>` (server/store/sqlite/queue-log.ts). */
function queueLogName(dbName: string): RegExp {
  return new RegExp(`^${dbName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-queue-\\d+$`);
}

/**
 * A relay from test/support/relay.ts: its data directory, its log file and its captured log
 * lines. `queueLog: false` after a graceful close, which checkpoints and removes the queue log.
 */
export function relaySources(
  relay: { dbPath: string; logPath: string; logs: readonly string[] },
  options: { queueLog?: boolean } = {},
): ScanSources {
  return { ...dataDirSources(relay.dbPath, options), files: [relay.logPath], captured: { 'relay log lines': relay.logs } };
}

/** Scans every source for every needle; never throws for a hit (see expectNoNeedles). */
export async function scanForNeedles(sources: ScanSources, needleInputs: readonly NeedleInput[]): Promise<ScanReport> {
  const needles = needleInputs.map(toNeedle);
  const scanned: string[] = [];
  const hits: Hit[] = [];
  const search = (data: Buffer, where: string | ((offset: number) => string)): void => {
    for (const needle of needles) {
      for (const { encoding, pattern } of needle.variants) {
        const offset = data.indexOf(pattern);
        if (offset >= 0) hits.push({ needle: needle.name, encoding, where: typeof where === 'string' ? where : where(offset), offset });
      }
    }
  };

  const walked = sources.dataDir === undefined ? [] : walk(sources.dataDir);
  for (const file of new Set([...walked, ...(sources.files ?? []).map((f) => resolve(f))])) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (error) {
      // A queue-log file retired between the walk and the read: it no longer holds anything.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    scanned.push(file);
    search(data, file);
  }
  // Checked against the files actually read, so a walk that missed them fails.
  if (sources.dataDir !== undefined) expectWalkCovers(sources.dataDir, walked.filter((file) => scanned.includes(file)), sources.required);

  for (const [name, value] of Object.entries(sources.captured ?? {})) {
    const data = typeof value === 'string' ? Buffer.from(value) : isBytes(value) ? Buffer.from(value) : Buffer.from(value.join('\n'));
    scanned.push(`captured ${name}`);
    search(data, `captured ${name}`);
  }

  if (sources.postgresUrl !== undefined) {
    const dump = await pgDump(sources.postgresUrl);
    const label = `pg_dump ${new URL(sources.postgresUrl).pathname.slice(1)}`;
    scanned.push(`${label} (${dump.tables} tables)`);
    search(dump.data, (offset) => `${label} ${dump.tableAt(offset)}`);
  }

  if (sources.redisUrl !== undefined) {
    for (const entry of await redisEntries(sources.redisUrl)) search(entry.data, entry.where);
    scanned.push(`redis ${sources.redisUrl}`);
  }
  return { scanned, hits };
}

/** Scans, then fails the test naming every hit; returns the report (what was scanned). */
export async function expectNoNeedles(sources: ScanSources, needles: readonly NeedleInput[]): Promise<ScanReport> {
  const report = await scanForNeedles(sources, needles);
  if (report.scanned.length === 0) throw new Error('the privacy scan was given nothing to scan');
  if (report.hits.length > 0) {
    throw new Error(`needles found:\n${report.hits.map((hit) => `  ${describeHit(hit)}`).join('\n')}\nscanned: ${report.scanned.join(', ')}`);
  }
  return report;
}

export function describeHit(hit: Hit): string {
  return `"${hit.needle}" as ${hit.encoding} in ${hit.where} at ${hit.offset}`;
}

/**
 * Every envelope body the relay holds on disk for `dbPath`: SQLite's queue table and the stored
 * records of the queue-log files in front of it (whether or not a removal followed). For checks
 * on the bodies themselves, e.g. that none names its sender.
 */
export function storedBodies(dbPath: string): Buffer[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  let bodies: Buffer[];
  try {
    bodies = (db.prepare('SELECT body FROM queue').all() as Array<{ body: Buffer }>).map((row) => row.body);
  } finally {
    db.close();
  }
  const isLog = queueLogName(basename(dbPath));
  for (const name of readdirSync(dirname(dbPath))) {
    if (!isLog.test(name)) continue;
    const generation = Number(name.slice(name.lastIndexOf('-') + 1));
    for (const record of decodeRecords(readFileSync(join(dirname(dbPath), name)), generation)) {
      if (record.kind === 'stored') bodies.push(Buffer.from(record.body));
    }
  }
  return bodies;
}

interface Needle {
  name: string;
  variants: Array<{ encoding: Encoding; pattern: Buffer }>;
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function toNeedle(input: NeedleInput, index: number): Needle {
  const named = typeof input === 'object' && !isBytes(input) ? input : undefined;
  const value = named ? named.bytes : (input as string | Uint8Array);
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
  const name = named?.name ?? (typeof value === 'string' ? value : `bytes #${index} (${bytes.toString('hex').slice(0, 16)}…)`);
  if (bytes.length === 0) throw new Error(`needle "${name}" is empty`);
  const variants: Needle['variants'] = [{ encoding: 'utf8', pattern: bytes }];
  if (named?.exact) return { name, variants };
  if (bytes.length < MIN_NEEDLE_BYTES) throw new Error(`needle "${name}" is ${bytes.length} bytes; at least ${MIN_NEEDLE_BYTES} are needed to search its encodings without chance hits`);
  for (const encoding of ['base64', 'base64url'] as const) {
    for (const fragment of base64Fragments(bytes, encoding)) variants.push({ encoding, pattern: Buffer.from(fragment) });
  }
  variants.push({ encoding: 'hex', pattern: Buffer.from(bytes.toString('hex')) });
  variants.push({ encoding: 'HEX', pattern: Buffer.from(bytes.toString('hex').toUpperCase()) });
  if (typeof value === 'string') variants.push({ encoding: 'json', pattern: Buffer.from(JSON.stringify(value).slice(1, -1)) });
  // base64 and base64url agree unless the fragment holds + / - _; JSON text is the text unless escaped.
  const distinct = new Map<string, Needle['variants'][number]>();
  for (const variant of variants) if (!distinct.has(variant.pattern.toString('latin1'))) distinct.set(variant.pattern.toString('latin1'), variant);
  return { name, variants: [...distinct.values()] };
}

/**
 * The characters that encode `bytes` wherever they start inside a longer value: for each of the
 * three alignments, only the characters whose six bits all come from the needle.
 */
export function base64Fragments(bytes: Buffer, encoding: 'base64' | 'base64url'): string[] {
  return [0, 1, 2].map((shift) => {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString(encoding);
    return encoded.slice(Math.ceil((shift * 8) / 6), Math.floor(((shift + bytes.length) * 8) / 6));
  });
}

function walk(dir: string): string[] {
  const root = resolve(dir);
  // A shared directory would scan other relays' files (and everything else there): each relay
  // in the tests writes into a temp dir of its own.
  if (root === resolve(tmpdir()) || root === resolve('/') || root === process.cwd()) {
    throw new Error(`refusing to walk ${root}: give the relay a data directory of its own`);
  }
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

function expectWalkCovers(dir: string, walked: readonly string[], required: ScanSources['required']): void {
  const names = walked.map((file) => basename(file));
  if (required === undefined || required.length === 0) {
    if (walked.length === 0) throw new Error(`no files under ${dir}: the privacy scan would pass without looking at anything`);
    return;
  }
  const missing = required.filter((want) => !names.some((name) => (typeof want === 'string' ? name === want : want.test(name))));
  if (missing.length > 0) {
    throw new Error(`files the scan must cover are missing under ${dir}: ${missing.map(String).join(', ')} (found: ${names.join(', ') || 'none'})`);
  }
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

async function pgDump(url: string): Promise<{ data: Buffer; tables: number; tableAt(offset: number): string }> {
  const { stdout } = await promisify(execFile)('pg_dump', ['--data-only', '--format=plain', '--no-password', `--dbname=${url}`], {
    encoding: 'buffer',
    maxBuffer: 1024 ** 3,
    env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
  });
  // COPY's text format escapes backslashes and control characters in every value (jsonb's
  // quotes come out as \\"): searched with those undone, so text looks as it was stored.
  const data = Buffer.from((stdout as Buffer).toString('latin1').replace(/\\([\\bfnrtv])/g, (_, c: string) => COPY_ESCAPES[c] ?? c), 'latin1');
  // Plain dumps hold each table's rows after a `COPY <table> (…) FROM stdin;` line.
  const copies: Array<{ at: number; table: string }> = [];
  for (const match of data.toString('latin1').matchAll(/^COPY (\S+) /gm)) copies.push({ at: match.index, table: match[1]! });
  return {
    data,
    tables: copies.length,
    tableAt: (offset) => {
      const table = copies.filter((copy) => copy.at <= offset).at(-1)?.table;
      return table === undefined ? 'header' : `table ${table}`;
    },
  };
}

/** One entry per key: its name and every value it holds (members, fields, stream entries). */
async function redisEntries(url: string): Promise<Array<{ where: string; data: Buffer }>> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  await client.connect();
  try {
    const entries: Array<{ where: string; data: Buffer }> = [];
    const keyspace = await client.info('keyspace');
    const databases = [...keyspace.matchAll(/^db(\d+):keys=/gm)].map((m) => Number(m[1]));
    for (const db of databases) {
      await client.select(db);
      let cursor = '0';
      do {
        const [next, keys] = await client.scanBuffer(cursor, 'COUNT', 1000);
        cursor = next.toString();
        for (const key of keys) {
          const type = await client.type(key);
          const reply = await client.callBuffer(...readCommand(type, key));
          entries.push({ where: `redis db${db} ${type} key ${JSON.stringify(key.toString('latin1'))}`, data: Buffer.concat([key, Buffer.from([0]), ...flatten(reply)]) });
        }
      } while (cursor !== '0');
    }
    return entries;
  } finally {
    client.disconnect();
  }
}

function readCommand(type: string, key: Buffer): [string, ...Array<string | Buffer>] {
  switch (type) {
    case 'string': return ['GET', key];
    case 'list': return ['LRANGE', key, '0', '-1'];
    case 'set': return ['SMEMBERS', key];
    case 'zset': return ['ZRANGE', key, '0', '-1', 'WITHSCORES'];
    case 'hash': return ['HGETALL', key];
    case 'stream': return ['XRANGE', key, '-', '+'];
    // A module's type (or one added later): its serialized form.
    default: return ['DUMP', key];
  }
}

function flatten(reply: unknown): Buffer[] {
  if (Buffer.isBuffer(reply)) return [reply, Buffer.from([0])];
  if (Array.isArray(reply)) return reply.flatMap(flatten);
  if (reply === null || reply === undefined) return [];
  return [Buffer.from(String(reply)), Buffer.from([0])];
}
