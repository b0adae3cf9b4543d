/**
 * Connection life: a device's connection killed in the middle of a batch, and the relay
 * restarted (same SQLite file, same port) mid-conversation with sends during the downtime —
 * nothing is lost and nothing is shown twice. Afterwards, nothing the relay wrote (its SQLite
 * files, queue log and logs) holds any of the plaintexts, and no stored envelope names its sender.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoNeedles, relaySources, storedBodies } from '../support/privacy-scan.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { registerDevice, tempDir, textsFrom, waitFor, type TestDevice } from './helpers.js';

describe('connection failures and relay restarts', () => {
  let relay: RelayHandle;
  const profiles = tempDir('sealpost-sdk-res-');
  let alice: TestDevice;
  let bob: TestDevice;
  const plaintexts: string[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    alice = await registerDevice(profiles.path, relay.url, 'alice');
    bob = await registerDevice(profiles.path, relay.url, 'bob');
  });

  afterAll(async () => {
    await alice?.client.close();
    await bob?.client.close();
    await relay?.close();
    profiles.remove();
  });

  it('survives a connection killed mid-batch: every message once, in order', async () => {
    const texts = Array.from({ length: 30 }, (_, i) => `burst message ${i}`);
    plaintexts.push(...texts);
    await bob.client.close(); // let a backlog build up so it drains in pages
    const sent = [];
    for (const text of texts) sent.push((await alice.client.send('bob', text)).stored);
    await Promise.all(sent);

    bob = await bob.reopen();
    let killed = 0;
    bob.client.on('message', () => {
      // Drop the transport twice while the backlog is being processed (before its ack).
      if (bob.seen.length === 5 || bob.seen.length === 17) {
        killed++;
        (bob.client as unknown as { wired: { ctx: { connection: { simulateNetworkFailure(): void } } } }).wired.ctx.connection.simulateNetworkFailure();
      }
    });
    await waitFor(() => textsFrom(bob, 'alice').length >= texts.length, 'bob has the whole burst', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(killed).toBe(2);
    expect(textsFrom(bob, 'alice')).toEqual(texts);
  });

  it('survives a relay restart mid-conversation, with sends while it is down', async () => {
    const before = ['before restart 1', 'before restart 2'];
    const during = ['while relay down 1', 'while relay down 2'];
    const after = ['after restart'];
    plaintexts.push(...before, ...during, ...after);
    for (const text of before) await (await bob.client.send('alice', text)).stored;

    const port = Number(new URL(relay.url).port);
    await relay.close({ keepData: true });
    await waitFor(() => bob.client.connectionState !== 'connected', 'bob notices');
    const pending = [];
    for (const text of during) pending.push((await bob.client.send('alice', text)).stored);

    relay = await relay.restart({ port });
    await Promise.all(pending);
    await (await bob.client.send('alice', after[0]!)).stored;
    await waitFor(() => textsFrom(alice, 'bob').length >= 5, 'alice has all of bob\'s', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(textsFrom(alice, 'bob')).toEqual([...before, ...during, ...after]);
    // And the other direction still works after the restart.
    await (await alice.client.send('bob', 'still here')).stored;
    plaintexts.push('still here');
    await waitFor(() => textsFrom(bob, 'alice').at(-1) === 'still here', 'bob gets the reply');
  });

  it('leaves no plaintext and no sender id in anything the relay wrote', async () => {
    // Every file in the relay's data directory (SQLite's, the queue log, the nonce journal, the
    // log) and its captured log lines (test/support/privacy-scan.ts).
    await expectNoNeedles(relaySources(relay), plaintexts);
    const db = new Database(relay.dbPath, { readonly: true });
    const columns = (db.prepare("SELECT name FROM pragma_table_info('queue')").all() as Array<{ name: string }>).map((c) => c.name);
    db.close();
    // No column names a sender, and no stored body (SQLite's queue table and the queue log in
    // front of it) carries a sender id in the clear.
    expect(columns.some((name) => /sender|from/i.test(name))).toBe(false);
    const senderIds = ['alice', 'bob', alice.client.deviceId!, bob.client.deviceId!];
    const bodies = storedBodies(relay.dbPath);
    expect(bodies.length).toBeGreaterThan(0);
    for (const body of bodies) for (const id of senderIds) expect(body.toString('latin1').includes(id)).toBe(false);
    const logs = relay.logs.join('\n') + readFileSync(relay.logPath, 'utf8');
    expect(logs.length).toBeGreaterThan(0);
    // Logs name no handle next to a send (the relay never learns who sent what).
    for (const line of logs.split('\n')) if (/"send/.test(line)) for (const id of ['alice', 'bob']) expect(line.includes(`"${id}"`)).toBe(false);
  });
});
