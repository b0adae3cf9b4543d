/**
 * Attack 2 (issue 18 item 2): sockets that answer pings but never read TCP, while envelopes are
 * sent to their device as fast as one sender may. Before the fix every push piled up in the
 * relay (94 MB → 3 GB in 37 s).
 *
 * The attacker's device opens STUCK sockets, waits until they are live, then pauses each
 * socket's net.Socket (nothing more is read) and writes an Engine.IO pong every second without
 * reading a ping. A second device sends that device batches of 100 × 64 KiB envelopes, as many
 * send events as the relay takes: one durable batch first (queued), then ephemeral ones (no
 * pair or inbound quota applies to those: pushes only), bounded in bytes and time. At the end
 * each stuck socket starts reading again, to see whether the relay had closed it
 * (--socket-drain-timeout-ms, 30 s) or still holds it. The control (2c) sends the same to a
 * device with no socket, so nothing is pushed: what the sending alone costs the relay.
 */
import { randomBytes } from 'node:crypto';
import type { SendAck } from '../../protocol/events.js';
import { connect, emitWithAck, errorText, flood, randomId, ready, register, sleep, Tally, type ClientSocket } from './client.js';
import type { AttackOutcome, AttackParams } from './types.js';

const STUCK = 10;
const BATCH = 100;
const BODY_BYTES = 64 * 1024;
const MAX_BYTES_SENT = 8 * 1024 ** 3;

interface RawWs {
  io: { engine: { transport: { ws?: { _socket?: { pause(): void; resume(): void }; send(data: string): void } } } };
}

function rawWs(socket: ClientSocket) {
  const ws = (socket as unknown as RawWs).io.engine.transport.ws;
  if (!ws?._socket) throw new Error('expected a websocket transport');
  return { ws, tcp: ws._socket };
}

export const slowReader = (p: AttackParams): Promise<AttackOutcome> => pushFlood(p, STUCK);

/** The control: the same sender and bytes to a device with no socket at all (nothing is pushed). */
export const pushFloodControl = (p: AttackParams): Promise<AttackOutcome> => pushFlood(p, 0);

async function pushFlood(p: AttackParams, stuckCount: number): Promise<AttackOutcome> {
  await ready();
  const victim = await register(p.url, 'stuck');
  const pusher = await register(p.url, 'pusher');
  const tally = new Tally();
  const stuck: ClientSocket[] = [];
  for (let i = 0; i < stuckCount; i++) stuck.push(await connect(p.url, victim));
  await sleep(500); // drained (an empty backlog) and in the live room
  const stopped = stuck.map((socket) => {
    const { ws, tcp } = rawWs(socket);
    tcp.pause();
    return setInterval(() => ws.send('3'), 1000);
  });

  const sender = await connect(p.url, pusher, { timeoutMs: 10_000 });
  const body = new Uint8Array(randomBytes(BODY_BYTES));
  const batch = (ephemeral: boolean) => Array.from({ length: BATCH }, () => ({ to: victim.id, id: randomId(), body, ...(ephemeral ? { ephemeral: true } : {}) }));
  let bytesSent = 0;
  const started = performance.now();
  const until = started + p.durationMs;
  const count = async (ephemeral: boolean): Promise<void> => {
    bytesSent += BATCH * BODY_BYTES;
    const kind = ephemeral ? 'ephemeral' : 'durable';
    try {
      const ack = await emitWithAck<SendAck>(sender, 'send', batch(ephemeral), 30_000);
      if (!ack.ok) tally.add(`${kind} batch refused ${ack.error.code}`);
      else {
        tally.add(`${kind} envelope accepted`, BATCH - ack.failed.length);
        for (const f of ack.failed) tally.add(`${kind} envelope refused ${f.error.code}`);
      }
    } catch (error) {
      tally.add(`${kind} batch ${errorText(error)}`);
      await sleep(100);
    }
  };
  await count(false);
  const sends = await flood(4, until, MAX_BYTES_SENT / (BATCH * BODY_BYTES), () => count(true));
  const seconds = (performance.now() - started) / 1000;
  sender.close();
  // Stuck until the window ends (past --socket-drain-timeout-ms), even when the byte cap ended the sending early.
  await sleep(Math.max(0, until - performance.now()));

  // Read again: a socket the relay closed sees its close after the bytes the kernel held.
  let closedByRelay = 0;
  await Promise.all(
    stuck.map(async (socket, i) => {
      clearInterval(stopped[i]);
      const gone = new Promise<boolean>((resolve) => {
        if (!socket.connected) resolve(true);
        socket.once('disconnect', () => resolve(true));
        setTimeout(() => resolve(false), 5000);
      });
      rawWs(socket).tcp.resume();
      if (await gone) closedByRelay++;
      socket.close();
    }),
  );
  const mb = (bytesSent / 1e6).toFixed(0);
  return {
    summary:
      `${stuckCount ? `${stuckCount} never-reading sockets of one device` : 'control: the device has no socket'}; 1 sender: ${sends + 1} batches of 100 × 64 KiB ` +
      `(${mb} MB, ${(bytesSent / 1e6 / seconds).toFixed(0)} MB/s), ${tally.get('durable envelope accepted') + tally.get('ephemeral envelope accepted')} envelopes accepted` +
      (stuckCount ? `; stuck sockets closed by the relay: ${closedByRelay}/${stuckCount}` : ''),
    counts: { ...tally.counts, 'stuck sockets closed by relay': closedByRelay },
    details: { bytesSent, seconds, sends: sends + 1 },
  };
}
