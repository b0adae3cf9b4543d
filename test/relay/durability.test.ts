/**
 * The gateway's side of durability: a sender's ack waits for the WAL sync that covers its
 * envelope, while the recipient may get the envelope as soon as it is committed. The test holds
 * the relay's WAL sync (SqliteStore's syncFile seam) and releases it by hand.
 */
import { fdatasyncSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { connectInbox, envelopeTo, send } from '../support/envelopes.js';
import { makeAccount, registerAll, type TestAccount } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-durability-'));
let held = false;
const waiting: (() => void)[] = [];
/** While `held`, every WAL sync waits for release(); otherwise it runs at once. */
const syncFile = (fd: number): Promise<void> =>
  new Promise((resolve) => {
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
  it('acks the sender only after the WAL sync, while the recipient already has the envelope', async () => {
    const { socket: sa } = await connectInbox(relay.url, alice.devices[0]!);
    const { socket: sb, inbox } = await connectInbox(relay.url, bob.devices[0]!);
    await inbox.until((i) => i.prekeyCounts.length > 0);

    held = true;
    let acked = false;
    const ack = send(sa, envelopeTo(bob.devices[0]!, 'flushing')).then((result) => {
      acked = true;
      return result;
    });
    await inbox.waitForCount(1);
    // Give the ack every chance to arrive early: it must not.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(acked).toBe(false);
    expect(waiting.length).toBeGreaterThan(0);

    release();
    expect(await ack).toEqual({ ok: true, failed: [] });
    sa.close();
    sb.close();
  });
});
