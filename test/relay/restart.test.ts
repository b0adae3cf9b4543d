/**
 * Restarts between send and delivery lose nothing that was acknowledged to the sender: once
 * in-process on the same database file, and once with the built `sealpost` binary killed with
 * SIGKILL (no chance to flush) — plus a graceful SIGTERM that exits 0. The replay cache survives
 * both a graceful restart and a kill: a handshake captured before is still refused after.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../bench/proc.js';
import { ack, connectInbox, envelopeTo, send } from '../support/envelopes.js';
import { connectDevice, connectWith, handshakeAuth, makeAccount, refusalCode, registerAll } from '../support/identity.js';
import { spawnRelay } from '../support/child-relay.js';
import { startRelay } from '../support/relay.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('restart', () => {
  it('still refuses a handshake replayed after a graceful restart, and keeps the nonce file private', async () => {
    let relay = await startRelay();
    const alice = await makeAccount();
    await registerAll(relay.url, alice);
    const captured = handshakeAuth(relay.url, alice.devices[0]!);
    (await connectWith(relay.url, captured)).close();
    // Same address, so the captured signature (which covers host:port) is otherwise valid.
    relay = await relay.restart({ port: Number(new URL(relay.url).port) });
    expect(await refusalCode(relay.url, captured)).toBe('replayed_nonce');
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, alice.devices[0]!))).toBe('connected');
    await relay.close({ keepData: true });
    expect(statSync(`${relay.dbPath}-nonces`).mode & 0o777).toBe(0o600);
    rmSync(relay.dir, { recursive: true, force: true });
  });

  it('still refuses a handshake replayed after the built binary was killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-cli-'));
    dirs.push(dir);
    const db = join(dir, 'relay.db');
    // The same address both times, so the captured signature (over host:port) is otherwise valid.
    const port = ['--port', String(await freePort())];
    const first = await spawnRelay(db, port);
    children.push(first.child);
    const alice = await makeAccount();
    await registerAll(first.url, alice);
    const captured = handshakeAuth(first.url, alice.devices[0]!);
    (await connectWith(first.url, captured)).close();
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await spawnRelay(db, port);
    children.push(second.child);
    expect(second.url).toBe(first.url);
    expect(await refusalCode(second.url, captured)).toBe('replayed_nonce');
    expect(await refusalCode(second.url, handshakeAuth(second.url, alice.devices[0]!))).toBe('connected');
    expect(statSync(`${db}-nonces`).mode & 0o777).toBe(0o600);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });

  it('keeps acked envelopes across an in-process restart on the same database', async () => {
    let relay = await startRelay();
    const alice = await makeAccount();
    const bob = await makeAccount();
    await registerAll(relay.url, alice);
    await registerAll(relay.url, bob);
    const sa = await connectDevice(relay.url, alice.devices[0]!);
    const sent = Array.from({ length: 4 }, (_, i) => envelopeTo(bob.devices[0]!, `before restart ${i}`));
    for (const e of sent) expect(await send(sa, e)).toEqual({ ok: true, failed: [] });
    sa.close();
    relay = await relay.restart();
    const { socket, inbox } = await connectInbox(relay.url, bob.devices[0]!);
    await inbox.waitForCount(4);
    expect(inbox.envelopes.map((e) => e.id)).toEqual(sent.map((e) => e.id));
    expect(await ack(socket, { upTo: inbox.envelopes[3]!.seq! })).toEqual({ ok: true, deleted: 4 });
    socket.close();
    await relay.close();
  });

  it('keeps acked envelopes when the built binary is killed, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealpost-cli-'));
    dirs.push(dir);
    const db = join(dir, 'relay.db');
    const first = await spawnRelay(db);
    children.push(first.child);
    const alice = await makeAccount();
    const bob = await makeAccount();
    await registerAll(first.url, alice);
    await registerAll(first.url, bob);
    const sa = await connectDevice(first.url, alice.devices[0]!);
    const sent = Array.from({ length: 20 }, (_, i) => envelopeTo(bob.devices[0]!, `crash ${i}`));
    const acks = await Promise.all(sent.map((e) => send(sa, e)));
    expect(acks.every((r) => r.ok)).toBe(true);
    // Power-cut stand-in: no shutdown hook runs.
    first.child.kill('SIGKILL');
    await first.exited;
    sa.close();

    const second = await spawnRelay(db);
    children.push(second.child);
    const { socket, inbox } = await connectInbox(second.url, bob.devices[0]!);
    await inbox.waitForCount(20);
    expect(inbox.envelopes.map((e) => e.id)).toEqual(sent.map((e) => e.id));
    socket.close();
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.output.join('')).toContain('"event":"shutdown"');
  });
});
