/**
 * Scenarios (a) and (b): sender→recipient pairs, `window` messages in flight per pair.
 *
 * A message is COMPLETE when both (1) the sender holds the relay's ack for its `send` and
 * (2) the recipient has received the envelope, acked it (`ack {upTo: seq}`) and the relay has
 * answered that ack. For sealpost (1) is the durable-write ack and (2) is the delete; for the
 * baselines (1) is the recipient's ack relayed to the sender, which already implies (2). The
 * same definition, timed the same way, for all three targets; a lane sends its next message
 * only when the previous one is complete.
 */
import type { PairsParams } from '../config.js';
import type { LoadResult } from '../ipc.js';
import { percentile } from '../stats.js';
import { bodyPool, envelopeId } from './bodies.js';
import { mapLimit, type BenchClient, type Driver } from './driver.js';
import { cpuPercent, phase } from './phase.js';

interface InFlight {
  sentAt: number;
  relayAckAt?: number;
  recipientAckAt?: number;
  failed: boolean;
  timedOut: boolean;
  done: () => void;
}

const GRACE_MS = 5_000;

export async function runPairs(driver: Driver, params: PairsParams, bodyBytes: number): Promise<LoadResult> {
  const bodies = bodyPool(bodyBytes);
  const inFlight = new Map<string, InFlight>();
  const finish = (id: string, message: InFlight): void => {
    if (message.failed || (message.relayAckAt !== undefined && message.recipientAckAt !== undefined)) {
      inFlight.delete(id);
      message.done();
    }
  };

  const created = await driver.createDevices(params.pairs * 2);
  // Where a driver has several relay nodes (the cluster target), sender p connects to node p and
  // its recipient to node p + 1 (modulo the count): every message crosses from one node to another.
  // A driver with one relay ignores the placement.
  const devices = created.map((device, i) => ({ ...device, node: i < params.pairs ? i : i - params.pairs + 1 }));
  const recipients = await mapLimit(devices.slice(params.pairs), 50, (device) =>
    driver.connect(device, (client, batch) => {
      // Ack everything received so far in one cumulative ack, as a real client would.
      let upTo = 0;
      for (const envelope of batch) upTo = Math.max(upTo, envelope.seq ?? 0);
      void client.ack({ upTo }).then((result) => {
        const now = performance.now();
        for (const envelope of batch) {
          const message = inFlight.get(envelope.id);
          if (message === undefined) continue;
          if (!result.ok) message.failed = true;
          message.recipientAckAt = now;
          finish(envelope.id, message);
        }
      });
    }),
  );
  const senders = await mapLimit(devices.slice(0, params.pairs), 50, (device) => driver.connect(device));

  const completedAt: number[] = [];
  const latencies: number[] = [];
  const relayLatencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const measureFrom = start + params.warmupSeconds * 1000;
  const measureTo = measureFrom + params.seconds * 1000;
  let cpuStart: NodeJS.CpuUsage | undefined;
  let cpuPct = 0;
  const markers = (async () => {
    await sleepUntil(measureFrom);
    await phase('measure-start');
    cpuStart = process.cpuUsage();
    await sleepUntil(measureTo);
    cpuPct = cpuPercent(cpuStart, params.seconds);
    await phase('measure-end');
  })();

  const lane = async (sender: BenchClient, to: string): Promise<void> => {
    for (let i = 0; i < params.maxPerLane && performance.now() < measureTo; i++) {
      const id = envelopeId();
      const sentAt = performance.now();
      const message: InFlight = { sentAt, failed: false, timedOut: false, done: () => {} };
      const completed = new Promise<void>((resolve) => (message.done = resolve));
      inFlight.set(id, message);
      void sender.send({ to, id, body: bodies[i % bodies.length] as Uint8Array }).then((ack) => {
        if (!ack.ok || ack.failed.length > 0) message.failed = true;
        message.relayAckAt = performance.now();
        finish(id, message);
      });
      await completed;
      if (message.timedOut) return;
      if (message.failed) {
        errors++;
        continue;
      }
      const doneAt = Math.max(message.relayAckAt ?? 0, message.recipientAckAt ?? 0);
      if (doneAt >= measureFrom && doneAt <= measureTo) completedAt.push(doneAt);
      if (sentAt >= measureFrom && doneAt <= measureTo) {
        latencies.push(doneAt - sentAt);
        relayLatencies.push((message.relayAckAt ?? doneAt) - sentAt);
      }
    }
  };

  const lanes: Promise<void>[] = [];
  senders.forEach((sender, p) => {
    const to = recipients[p]?.deviceId ?? '';
    for (let w = 0; w < params.window; w++) lanes.push(lane(sender, to));
  });
  // One timer for all lanes instead of one per message: per-message timers would cost the load
  // generator as much as what is being measured. Whatever is still open after the grace is lost.
  const abandon = setTimeout(() => {
    for (const message of inFlight.values()) {
      message.timedOut = true;
      errors++;
      message.done();
    }
    inFlight.clear();
  }, measureTo + GRACE_MS - performance.now());
  await Promise.all(lanes);
  clearTimeout(abandon);
  await markers;
  for (const client of [...senders, ...recipients]) client.close();

  return {
    completed: completedAt.length,
    seconds: params.seconds,
    msgPerSec: completedAt.length / params.seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    relayAckP50Ms: percentile(relayLatencies, 50),
    relayAckP99Ms: percentile(relayLatencies, 99),
    errors,
    loadCpuPct: cpuPct,
  };
}

function sleepUntil(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())));
}
