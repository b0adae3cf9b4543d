/**
 * Shared by the fuzz suites: a child relay with two registered accounts, the database row
 * counts (read through a second, read-only SQLite connection), the "typed reply" predicates,
 * and the after-check — the process is alive, logged no internal error, stored nothing new,
 * and still serves a normal exchange.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { ERROR_CODES } from '../../server/errors.js';
import { ack, connectInbox, envelopeTo, send } from '../support/envelopes.js';
import { connectDevice, makeAccount, registerAll, type TestAccount } from '../support/identity.js';
import { spawnRelay, type ChildRelay } from '../support/child-relay.js';

export interface FuzzRelay {
  relay: ChildRelay;
  db: string;
  dir: string;
  alice: TestAccount;
  bob: TestAccount;
  baseline: RowCounts;
}

export type RowCounts = Record<'accounts' | 'devices' | 'one_time_prekeys' | 'queue', number>;

/**
 * Rows in SQLite, and the queue as the relay counts it: SQLite plus the queue log in front of
 * it (an envelope moves from one to the other at a checkpoint, so only the sum is stable).
 */
export async function rowCounts(db: string, url: string): Promise<RowCounts> {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  const n = (table: string) => (conn.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  let tables: Omit<RowCounts, 'queue'>;
  try {
    tables = { accounts: n('accounts'), devices: n('devices'), one_time_prekeys: n('one_time_prekeys') };
  } finally {
    conn.close();
  }
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const queue = /^sealpost_queue_envelopes (\d+)$/m.exec(metrics)?.[1];
  expect(queue, 'sealpost_queue_envelopes on /metrics').toBeDefined();
  return { ...tables, queue: Number(queue) };
}

/** A small envelope cap keeps oversized cases cheap; 16 per batch keeps batches quick. */
export async function startFuzzRelay(): Promise<FuzzRelay> {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-fuzz-'));
  const db = join(dir, 'relay.db');
  const relay = await spawnRelay(db, ['--max-body-bytes', '2048', '--max-batch', '16']);
  const alice = await makeAccount();
  const bob = await makeAccount();
  await registerAll(relay.url, alice);
  await registerAll(relay.url, bob);
  // One envelope queued before the barrage: it must survive it.
  const s = await connectDevice(relay.url, alice.devices[0]!);
  expect(await send(s, envelopeTo(bob.devices[0]!, 'queued before fuzzing'))).toEqual({ ok: true, failed: [] });
  s.close();
  return { relay, db, dir, alice, bob, baseline: await rowCounts(db, relay.url) };
}

export function isTypedError(value: unknown): boolean {
  const error = (value as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === 'string' && (ERROR_CODES as string[]).includes(error.code) && error.code !== 'internal' && typeof error.message === 'string';
}

/** A socket ack: `{ok:true,…}` for a request that was valid, else `{ok:false, error:{code,message}}`. */
export function isTypedAck(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const ok = (value as { ok?: unknown }).ok;
  if (ok === true) return true;
  return ok === false && isTypedError(value);
}

export async function expectStillServing(f: FuzzRelay): Promise<void> {
  expect(f.relay.child.exitCode, 'relay process exited').toBeNull();
  expect(f.relay.child.signalCode).toBeNull();
  const logged = f.relay.output.join('');
  // pino levels: 50 error, 60 fatal — an internal failure would be logged at one of them.
  expect(logged).not.toMatch(/"level":(50|60)/);
  expect(await rowCounts(f.db, f.relay.url)).toEqual(f.baseline);
  expect((await fetch(`${f.relay.url}/readyz`)).status).toBe(200);
  // A normal exchange, including the envelope queued before the fuzzing.
  const sa = await connectDevice(f.relay.url, f.alice.devices[0]!);
  const { socket: sb, inbox } = await connectInbox(f.relay.url, f.bob.devices[0]!);
  await inbox.waitForCount(1);
  const after = envelopeTo(f.bob.devices[0]!, 'after fuzzing');
  expect(await send(sa, after)).toEqual({ ok: true, failed: [] });
  await ack(sb, { upTo: inbox.envelopes[0]!.seq! });
  await inbox.waitForCount(2);
  expect(inbox.envelopes.map((e) => e.id)).toContain(after.id);
  sa.close();
  sb.close();
}

export async function stopFuzzRelay(f: FuzzRelay | undefined): Promise<void> {
  if (!f) return;
  if (f.relay.child.exitCode === null) {
    f.relay.child.kill('SIGTERM');
    await f.relay.exited;
  }
  rmSync(f.dir, { recursive: true, force: true });
}
