/**
 * Scenario (c), sealpost only: fill the queues of `devices` offline devices with `envelopes`
 * envelopes (batches of 100, the relay's batch cap), then connect every device at once and
 * time until each has received its whole backlog and the relay has answered its last ack.
 * The runner checks afterwards, in the SQLite file, that the queue is empty.
 */
import type { BenchConfig } from '../config.js';
import type { LoadResult } from '../ipc.js';
import type { OutgoingEnvelope } from '../../protocol/events.js';
import { bodyPool, envelopeId } from './bodies.js';
import { BenchError, mapLimit, type Driver } from './driver.js';
import { debug } from './debug.js';
import { cpuPercent, phase } from './phase.js';

const BATCH = 100;
const BATCHES_IN_FLIGHT_PER_SENDER = 4;

export async function runDrain(driver: Driver, params: BenchConfig['drain'], bodyBytes: number): Promise<LoadResult> {
  const bodies = bodyPool(bodyBytes);
  const devices = await driver.createDevices(params.devices + params.senders);
  const recipients = devices.slice(0, params.devices);
  debug(`drain: ${devices.length} devices registered`);
  const senders = await mapLimit(devices.slice(params.devices), 10, (device) => driver.connect(device));
  debug('drain: senders connected');

  // Fill: every recipient gets an equal share, in batches addressed to one device each.
  const perDevice = Math.floor(params.envelopes / params.devices);
  const batches: OutgoingEnvelope[][] = [];
  for (const device of recipients) {
    for (let sent = 0; sent < perDevice; sent += BATCH) {
      const size = Math.min(BATCH, perDevice - sent);
      batches.push(Array.from({ length: size }, (_, i) => ({ to: device.id, id: envelopeId(), body: bodies[(sent + i) % bodies.length] as Uint8Array })));
    }
  }
  const fillStart = performance.now();
  let nextBatch = 0;
  let refused = 0;
  await Promise.all(
    senders.flatMap((sender) =>
      Array.from({ length: BATCHES_IN_FLIGHT_PER_SENDER }, async () => {
        while (nextBatch < batches.length) {
          const ack = await sender.send(batches[nextBatch++] as OutgoingEnvelope[]);
          if (!ack.ok) throw new BenchError(`fill refused: ${ack.error.code} ${ack.error.message}`);
          refused += ack.failed.length;
        }
      }),
    ),
  );
  const fillSeconds = (performance.now() - fillStart) / 1000;
  debug(`drain: filled ${batches.length} batches in ${fillSeconds.toFixed(2)} s`);
  for (const sender of senders) sender.close();
  if (refused > 0) throw new BenchError(`fill: the relay refused ${refused} envelopes (quota?)`);
  const total = perDevice * params.devices;

  // Drain: connect all at once; handshakes are part of the time to empty.
  await phase('measure-start');
  const cpuStart = process.cpuUsage();
  const drainStart = performance.now();
  let delivered = 0;
  let duplicates = 0;
  let errors = 0;
  const drained = await Promise.race([
    Promise.all(
      recipients.map(
        (device) =>
          new Promise<void>((resolve, reject) => {
            const seen = new Set<string>();
            let acked = 0;
            driver
              .connect(device, (client, batch) => {
                let upTo = 0;
                for (const envelope of batch) {
                  upTo = Math.max(upTo, envelope.seq ?? 0);
                  if (seen.has(envelope.id)) duplicates++;
                  else seen.add(envelope.id);
                }
                const received = seen.size;
                void client.ack({ upTo }).then((result) => {
                  if (!result.ok) {
                    errors++;
                    return;
                  }
                  if (received > acked) {
                    delivered += received - acked;
                    acked = received;
                  }
                  if (acked >= perDevice) {
                    client.close();
                    resolve();
                  }
                });
              })
              .catch(reject);
          }),
      ),
    ).then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), params.timeoutMs).unref()),
  ]);
  const seconds = (performance.now() - drainStart) / 1000;
  debug(`drain: ${drained ? 'drained' : 'timed out'} ${delivered}/${total} in ${seconds.toFixed(2)} s`);
  const loadCpuPct = cpuPercent(cpuStart, seconds);
  await phase('measure-end');
  if (!drained) errors += total - delivered;

  return {
    completed: delivered,
    seconds,
    msgPerSec: delivered / seconds,
    errors,
    duplicates,
    fillMsgPerSec: total / fillSeconds,
    loadCpuPct,
  };
}
