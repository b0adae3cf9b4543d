/**
 * A full disk is a state the relay leaves by itself. On a real small disk (a tmpfs mounted for the
 * test: the suite runs as root, locally and in CI) filled with a file: sends and registrations are
 * answered `unavailable`, reads and acks go on, /readyz says why, and once space returns sends
 * succeed again without a restart. A reserve (`--min-free-disk-bytes`) refuses sends before the
 * disk is full. A relay killed and restarted on a full disk starts, delivers what it holds and
 * takes acks.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ack, connectInbox, envelopeTo, send } from '../support/envelopes.js';
import { connectDevice, makeAccount, registerAccount, registerAll } from '../support/identity.js';
import { spawnRelay } from '../support/child-relay.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

const mnt = mkdtempSync(join(tmpdir(), 'sealpost-full-disk-'));
const filler = join(mnt, 'filler');
let relay: RelayHandle | undefined;

beforeAll(() => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mnt]);
});
afterEach(() => rmSync(filler, { force: true }));
afterAll(async () => {
  await relay?.close({ keepData: true });
  execFileSync('umount', [mnt]);
  rmSync(mnt, { recursive: true, force: true });
});

const freeBytes = (): number => {
  const s = statfsSync(mnt);
  return s.bavail * s.bsize;
};

/** The relay prepares its next queue-log file (9 MiB of zeros) in the background after start: let it finish first. */
const spareReady = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 500));

/** Writes the filler until only `leave` bytes are free (0: until the disk refuses). */
function fill(leave = 0): void {
  const fd = openSync(filler, 'a');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    while (freeBytes() > leave) writeSync(fd, chunk, 0, Math.min(chunk.length, Math.max(4096, freeBytes() - leave)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

/** The queue log files next to `db`, by name. */
const logFiles = (db: string): string[] => readdirSync(mnt).filter((name) => name.startsWith(`${basename(db)}-queue-`));

const readyz = async (url: string) => {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as unknown };
};

async function eventually<T>(probe: () => Promise<T>, ok: (value: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a full disk', () => {
  it('answers unavailable, keeps serving reads and acks, and recovers without a restart', async () => {
    relay = await startRelay({ db: join(mnt, 'sealpost.db'), minFreeDiskBytes: 0 });
    const [alice, bob] = await Promise.all([makeAccount(), makeAccount()]);
    await registerAll(relay.url, alice!);
    await registerAll(relay.url, bob!);
    const b = bob!.devices[0]!;
    const sa = await connectDevice(relay.url, alice!.devices[0]!);
    expect(await send(sa, envelopeTo(b, 'before'))).toMatchObject({ ok: true });

    await spareReady();
    fill();
    const batch = Array.from({ length: 50 }, (_, i) => envelopeTo(b, `on a full disk ${i}`.padEnd(4000, '.')));
    expect(await send(sa, batch)).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(await send(sa, envelopeTo(b, 'still full'))).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    const carol = await makeAccount();
    expect((await registerAccount(relay.url, carol)).status).toBe(503);
    expect(await readyz(relay.url)).toMatchObject({ status: 503, body: { error: { code: 'unavailable', message: expect.stringMatching(/disk is full/) } } });

    // Reads and acks go on: Bob gets what was stored before and acknowledges it.
    const { socket: sb, inbox } = await connectInbox(relay.url, b);
    await inbox.waitForCount(1);
    expect(await ack(sb, { upTo: inbox.envelopes[0]!.seq! })).toEqual({ ok: true, deleted: 1 });

    // Space returns: no restart, sends and registrations succeed again.
    unlinkSync(filler);
    expect((await eventually(() => readyz(relay!.url), (r) => r.status === 200)).status).toBe(200);
    expect(await send(sa, batch)).toEqual({ ok: true, failed: [] });
    await inbox.waitForCount(1 + batch.length);
    expect((await registerAccount(relay.url, carol)).status).toBe(201);
    expect(await relay.app.store.isWritable()).toBe(true);
    sa.close();
    sb.close();
  });

  it('refuses sends early below the reserve, and /readyz says why', async () => {
    relay = await relay!.restart({ minFreeDiskBytes: 16 * 1024 * 1024 });
    const [alice, bob] = await Promise.all([makeAccount(), makeAccount()]);
    await registerAll(relay.url, alice!);
    await registerAll(relay.url, bob!);
    const sa = await connectDevice(relay.url, alice!.devices[0]!);
    await spareReady();
    fill(8 * 1024 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await send(sa, envelopeTo(bob!.devices[0]!, 'below the reserve'))).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringMatching(/reserve/) } });
    expect(await readyz(relay.url)).toMatchObject({ status: 503, body: { error: { message: expect.stringMatching(/reserve/) } } });
    unlinkSync(filler);
    expect((await eventually(() => readyz(relay!.url), (r) => r.status === 200)).status).toBe(200);
    expect(await send(sa, envelopeTo(bob!.devices[0]!, 'above it again'))).toMatchObject({ ok: true });
    sa.close();
  });

  it('starts on a full disk after a SIGKILL, delivers what it holds and takes acks, and takes sends once space returns', async () => {
    const db = join(mnt, 'killed.db');
    let child = await spawnRelay(db, ['--min-free-disk-bytes', '0']);
    const [alice, bob] = await Promise.all([makeAccount(), makeAccount()]);
    await registerAll(child.url, alice!);
    await registerAll(child.url, bob!);
    const b = bob!.devices[0]!;
    const sa = await connectDevice(child.url, alice!.devices[0]!);
    expect(await send(sa, [envelopeTo(b, 'one'), envelopeTo(b, 'two'), envelopeTo(b, 'three')])).toEqual({ ok: true, failed: [] });
    sa.close();
    child.child.kill('SIGKILL');
    await child.exited;

    fill();
    child = await spawnRelay(db, ['--min-free-disk-bytes', '0']);
    // The log files the kill left could not be replayed into SQLite: the relay holds them until a checkpoint.
    const leftover = logFiles(db);
    expect(leftover.length).toBeGreaterThan(0);
    try {
      expect(await readyz(child.url)).toMatchObject({ status: 503, body: { error: { code: 'unavailable', message: expect.stringMatching(/disk is full/) } } });
      const { socket: sb, inbox } = await connectInbox(child.url, b);
      await inbox.waitForCount(3);
      expect(await ack(sb, { upTo: inbox.envelopes[2]!.seq! })).toEqual({ ok: true, deleted: 3 });
      const sa2 = await connectDevice(child.url, alice!.devices[0]!);
      expect(await send(sa2, envelopeTo(b, 'on a full disk'))).toMatchObject({ ok: false, error: { code: 'unavailable' } });

      unlinkSync(filler);
      const url = child.url;
      expect((await eventually(() => readyz(url), (r) => r.status === 200)).status).toBe(200);
      expect(await send(sa2, envelopeTo(b, 'space again'))).toEqual({ ok: true, failed: [] });
      await inbox.waitForCount(4);
      sa2.close();
      sb.close();

      // The first checkpoint with space (within 10 s) moves what they held into SQLite and deletes them.
      expect(await eventually(async () => leftover.filter((name) => logFiles(db).includes(name)), (left) => left.length === 0, 15_000)).toEqual([]);
      // Killed again: what was acknowledged on the full disk stays gone, the rest comes back.
      child.child.kill('SIGKILL');
      await child.exited;
      child = await spawnRelay(db, ['--min-free-disk-bytes', '0']);
      const again = await connectInbox(child.url, b);
      await again.inbox.waitForCount(1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(again.inbox.envelopes.map((e) => e.seq)).toEqual([4]);
      again.socket.close();
    } finally {
      child.child.kill('SIGKILL');
      await child.exited;
    }
  });
});
