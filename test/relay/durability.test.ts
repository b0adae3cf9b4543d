/**
 * The gateway's side of durability: a sender's ack and the push to the recipient both wait for
 * the WAL sync that covers the envelope. The test holds the relay's WAL sync (SqliteStore's
 * syncFile seam) and releases it by hand.
 */
import { fdatasyncSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { connectInbox, envelopeTo, send } from '../support/envelopes.js';
import { call, makeAccount, registerAll, type TestAccount } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-durability-'));
let held = false;
let failing = false;
const waiting: (() => void)[] = [];
/** While `held`, every WAL sync waits for release(); while `failing`, it fails like a bad disk. */
const syncFile = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => {
    if (failing) return reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    const run = () => {
      fdatasyncSync(fd);
      resolve();
    };
    if (held) waiting.push(run);
    else run();
  });
const release = () => {
  held = false;
  waiting.splice(0).forEach((run) => run());
};

let relay: RelayHandle;
let alice: TestAccount;
let bob: TestAccount;

beforeAll(async () => {
  const db = join(dir, 'sealpost.db');
  relay = await startRelay({ db }, undefined, new SqliteStore(db, { syncFile }));
  alice = await makeAccount();
  bob = await makeAccount();
  await registerAll(relay.url, alice);
  await registerAll(relay.url, bob);
});
afterAll(async () => {
  release();
  await relay.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('durability at the gateway', () => {
  it('acks the sender and pushes to the recipient only after the WAL sync', async () => {
    const { socket: sa } = await connectInbox(relay.url, alice.devices[0]!);
    const { socket: sb, inbox } = await connectInbox(relay.url, bob.devices[0]!);
    await inbox.until((i) => i.prekeyCounts.length > 0);

    held = true;
    let acked = false;
    const ack = send(sa, envelopeTo(bob.devices[0]!, 'flushing')).then((result) => {
      acked = true;
      return result;
    });
    // Give the ack and the push every chance to arrive early: neither may.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(waiting.length).toBeGreaterThan(0);
    expect(acked).toBe(false);
    expect(inbox.envelopes).toHaveLength(0);

    release();
    expect(await ack).toEqual({ ok: true, failed: [] });
    await inbox.waitForCount(1);
    sa.close();
    sb.close();
  });

  it('fails closed after a WAL sync error: the send is refused, later ones too, and /readyz says 503', async () => {
    const { socket: sa } = await connectInbox(relay.url, alice.devices[0]!);
    const { socket: sb, inbox } = await connectInbox(relay.url, bob.devices[0]!);
    await inbox.until((i) => i.prekeyCounts.length > 0);
    const before = inbox.envelopes.length;

    failing = true;
    expect(await send(sa, envelopeTo(bob.devices[0]!, 'on a bad disk'))).toMatchObject({ ok: false, error: { code: 'internal' } });
    failing = false;
    // The disk "works" again, but what it dropped cannot be known: still refused.
    expect(await send(sa, envelopeTo(bob.devices[0]!, 'after'))).toMatchObject({ ok: false, error: { code: 'internal' } });
    expect((await call(relay.url, { method: 'GET', path: '/readyz' })).status).toBe(503);
    // The relay process is alive and answers.
    expect((await call(relay.url, { method: 'GET', path: '/healthz' })).status).toBe(200);
    expect(inbox.envelopes.length - before).toBeLessThanOrEqual(1);
    sa.close();
    sb.close();
  });
});
