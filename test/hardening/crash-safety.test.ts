/**
 * Crash safety: 4 senders and 4 receivers exchange 400 envelopes through the built relay while
 * it is killed with SIGKILL at random moments, 4 times, and restarted on the same database.
 * Senders behave like the SDK: an envelope is "sent" only once the relay acked it; anything
 * else is retried with the same id after the restart. Receivers record, then ack, and drop
 * duplicates by id. At the end every acked envelope was shown exactly once, nothing unknown
 * was shown, and the queue is empty.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutgoingEnvelope } from '../../protocol/events.js';
import { ack, envelopeTo, quietPeriod, send } from '../support/envelopes.js';
import { connectDevice, makeAccount, registerAll, type ClientSocket, type TestAccount } from '../support/identity.js';
import { spawnRelay, type ChildRelay } from '../support/child-relay.js';

const PAIRS = 4;
const PER_SENDER = 100;
const KILLS = 4;
const dir = mkdtempSync(join(tmpdir(), 'sealpost-crash-'));
const running: ChildRelay[] = [];
afterAll(() => {
  for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Receiver {
  /** What the user saw, in order, after dedup by id. */
  shown: string[];
  seen: Set<string>;
  /** Every envelope that arrived on the wire, duplicates included. */
  wire: number;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash safety under load', () => {
  it(`loses nothing acked and shows nothing twice across ${KILLS} SIGKILLs`, async () => {
    const db = join(dir, 'relay.db');
    let relay = await spawnRelay(db);
    running.push(relay);
    const senders: TestAccount[] = [];
    const receivers: TestAccount[] = [];
    for (let i = 0; i < PAIRS; i++) {
      senders.push(await makeAccount());
      receivers.push(await makeAccount());
    }
    for (const a of [...senders, ...receivers]) await registerAll(relay.url, a);

    const pending: OutgoingEnvelope[][] = receivers.map((r) => Array.from({ length: PER_SENDER }, (_, i) => envelopeTo(r.devices[0]!, `pair message ${i}`)));
    const idsFor = pending.map((list) => new Set(list.map((e) => e.id)));
    const allIds = new Set(pending.flat().map((e) => e.id));
    const acked = new Set<string>();
    const inboxes: Receiver[] = receivers.map(() => ({ shown: [], seen: new Set(), wire: 0 }));
    const killLog: { afterMs: number; pendingAtKill: number; ackedAtKill: number }[] = [];
    let loadMs = 0;

    for (let phase = 0; phase <= KILLS; phase++) {
      const killing = phase < KILLS;
      const sockets: ClientSocket[] = [];
      // Receivers first, so live pushes have somewhere to go.
      for (const [i, r] of receivers.entries()) {
        const inbox = inboxes[i]!;
        const socket = await connectDevice(relay.url, r.devices[0]!, (s) => {
          s.on('envelopes', (batch) => {
            let top = 0;
            for (const e of batch) {
              inbox.wire += 1;
              if (!inbox.seen.has(e.id)) {
                inbox.seen.add(e.id);
                inbox.shown.push(e.id);
              }
              top = Math.max(top, e.seq ?? 0);
            }
            // Recorded first (the client's own store), acknowledged second.
            if (top > 0) ack(s, { upTo: top }, 2000).catch(() => undefined);
          });
        });
        sockets.push(socket);
      }
      const started = Date.now();
      let stop = false;
      const senderLoops = senders.map(async (s, i) => {
        const socket = await connectDevice(relay.url, s.devices[0]!);
        sockets.push(socket);
        const queue = pending[i]!;
        while (!stop && queue.length > 0 && socket.connected) {
          const batch = queue.slice(0, 1 + Math.floor(Math.random() * 3));
          try {
            const result = await send(socket, batch, 2000);
            if (result.ok && result.failed.length === 0) {
              for (const e of batch) acked.add(e.id);
              queue.splice(0, batch.length);
            }
          } catch {
            // No ack (the relay died mid-send): not sent; retried with the same ids later.
          }
          await pause(2);
        }
      });

      if (killing) {
        // A random point inside this phase's share of the load, so every kill lands mid-traffic.
        const share = allIds.size / (KILLS + 1);
        const target = Math.floor(share * phase + share * (0.3 + 0.6 * Math.random()));
        const deadline = Date.now() + 15_000;
        while (acked.size < target && Date.now() < deadline) await pause(2);
        await pause(Math.floor(Math.random() * 20));
        const afterMs = Date.now() - started;
        relay.child.kill('SIGKILL');
        await relay.exited;
        killLog.push({ afterMs, pendingAtKill: pending.flat().length, ackedAtKill: acked.size });
        stop = true;
        await Promise.all(senderLoops);
        loadMs += Date.now() - started;
        for (const s of sockets) s.close();
        relay = await spawnRelay(db);
        running.push(relay);
      } else {
        await Promise.all(senderLoops);
        // Let the receivers drain everything still queued.
        const deadline = Date.now() + 10_000;
        while (inboxes.some((x, i) => x.seen.size < PER_SENDER && pending[i]!.length === 0) && Date.now() < deadline) await pause(50);
        loadMs += Date.now() - started;
        await quietPeriod(200);
        for (const s of sockets) s.close();
      }
    }
    relay.child.kill('SIGTERM');
    expect(await relay.exited).toBe(0);

    const shown = inboxes.flatMap((x) => x.shown);
    const wire = inboxes.reduce((n, x) => n + x.wire, 0);
    const lost = [...acked].filter((id) => !inboxes.some((x) => x.seen.has(id)));
    const duplicatesShown = shown.length - new Set(shown).size;
    const figures = {
      envelopes: allIds.size,
      acked: acked.size,
      kills: killLog.length,
      killLog,
      loadSeconds: +(loadMs / 1000).toFixed(2),
      envelopesPerSecond: Math.round(acked.size / (loadMs / 1000)),
      lost: lost.length,
      duplicatesShown,
      redeliveredOnWire: wire - shown.length,
    };
    console.log(`[crash-safety] ${JSON.stringify(figures)}`);

    expect(killLog).toHaveLength(KILLS);
    expect(killLog.some((k) => k.pendingAtKill > 0)).toBe(true);
    expect(lost).toEqual([]);
    expect(duplicatesShown).toBe(0);
    // Everything eventually sent (retries with the same ids) and shown to its own receiver only.
    expect(acked.size).toBe(allIds.size);
    for (const [i, x] of inboxes.entries()) {
      expect(x.shown.every((id) => idsFor[i]!.has(id))).toBe(true);
      expect(x.seen.size).toBe(PER_SENDER);
    }
    const check = new Database(db, { readonly: true });
    expect((check.prepare('SELECT COUNT(*) AS n FROM queue').get() as { n: number }).n).toBe(0);
    check.close();
  }, 60_000);
});
