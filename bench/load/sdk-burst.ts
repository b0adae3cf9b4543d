/**
 * Scenario (f): one real SealpostClient (alice, in this load-generator process) sends a burst of
 * 1 KiB texts to bob, whose two devices run in a second process (sdk-receiver.ts), through the
 * real relay (the target process). Layout on the machine: relay, sender, recipient — three
 * processes.
 *
 * Setup through the SDK only: alice registers; bob registers and links his second device (the
 * first approves it). Warm-up: one message, until both of bob's devices showed it, so the
 * sessions exist and the first lookups are done. Then the burst: `send()` in a loop — each call
 * awaited only until the SDK has encrypted, stored and queued the message (which is when send()
 * resolves), never until the relay stored it; the `stored` promises are collected.
 *
 * Measured from the first send() call:
 * - acked: every `stored` promise resolved (the relay durably stored every envelope);
 * - delivered: bob's first device emitted a `message` event for every message (and, reported
 *   too, when his second device had them all);
 * - latency per message: send() called → `message` event on bob's first device (the text carries
 *   its send time; both processes read the same clock).
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { BenchConfig, SdkStore } from '../config.js';
import type { LoadResult } from '../ipc.js';
import { percentile } from '../stats.js';
import { BenchError } from './driver.js';
import { cpuPercent, phase } from './phase.js';
import { WARMUP_SEQ, burstText, connected, now, openClient, type FromReceiver, type SdkBenchClient, type ToReceiver } from './sdk-clients.js';

const RECEIVER = join(import.meta.dirname, 'sdk-receiver.js');
/**
 * Diagnostic: BENCH_SDK_YIELD=1 lets the event loop turn (setImmediate) between two send() calls.
 * Without it a store that does no I/O (MemoryPersistence) keeps the whole loop in one run of
 * microtasks, and Socket.IO writes nothing until the loop ends.
 */
const YIELD_BETWEEN_SENDS = process.env['BENCH_SDK_YIELD'] === '1';
const SETUP_TIMEOUT_MS = 60_000;

/** Waits for the receiver's messages one type at a time; its `error` or exit rejects. */
function receiverChannel(child: ReturnType<typeof fork>) {
  const inbox: FromReceiver[] = [];
  let wake: (() => void) | undefined;
  let failure: Error | undefined;
  child.on('message', (message: FromReceiver) => {
    if (message.type === 'error') failure = new BenchError(message.message);
    else inbox.push(message);
    wake?.();
  });
  child.once('exit', (code) => {
    failure ??= new BenchError(`sdk receiver exited with ${code}`);
    wake?.();
  });
  return async function next<T extends FromReceiver['type']>(type: T, timeoutMs: number): Promise<Extract<FromReceiver, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = inbox.findIndex((m) => m.type === type);
      if (at >= 0) return inbox.splice(at, 1)[0] as Extract<FromReceiver, { type: T }>;
      if (failure) throw failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new BenchError(`sdk receiver: no '${type}' within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  };
}

export async function runSdkBurst(url: string, store: SdkStore, params: BenchConfig['sdk'], bodyBytes: number): Promise<LoadResult> {
  const tag = randomBytes(4).toString('hex');
  const handles = { alice: `fa${tag}`, bob: `fb${tag}` };
  const child = fork(RECEIVER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = receiverChannel(child);
  const tell = (message: ToReceiver): void => void child.send(message);
  let sender: SdkBenchClient | undefined;
  try {
    tell({ type: 'start', url, store, ...handles, messages: params.messages, timeoutMs: params.timeoutMs });
    sender = await openClient(store, 'alice');
    const alice = sender.client;
    let errors = 0;
    alice.on('send_problem', () => errors++);
    alice.on('rejected', () => errors++);
    alice.on('error', () => errors++);
    await alice.register(url, handles.alice);
    await connected(alice, 'alice');
    await next('ready', SETUP_TIMEOUT_MS);

    const warmup = await alice.send(handles.bob, burstText(WARMUP_SEQ, now(), bodyBytes));
    await warmup.stored;
    await next('warm', SETUP_TIMEOUT_MS);
    await alice.outboxDrained(SETUP_TIMEOUT_MS);
    // Let bob's delivered receipts for the warm-up reach alice before the clock starts.
    await new Promise((resolve) => setTimeout(resolve, 300));

    await phase('measure-start');
    tell({ type: 'burst' });
    const cpu = process.cpuUsage();
    const start = now();
    const deadline = start + params.timeoutMs;
    const acked: Array<Promise<number | undefined>> = [];
    for (let seq = 0; seq < params.messages && now() < deadline; seq++) {
      const outgoing = await alice.send(handles.bob, burstText(seq, now(), bodyBytes));
      acked.push(outgoing.stored.then(() => now(), () => undefined));
      if (YIELD_BETWEEN_SENDS) await new Promise((resolve) => setImmediate(resolve));
    }
    const queuedAt = now();
    const ackTimes = await Promise.race([
      Promise.all(acked),
      new Promise<undefined[]>((resolve) => setTimeout(() => resolve([undefined]), Math.max(0, deadline - now()))),
    ]);
    const ackedAll = ackTimes.length === params.messages && ackTimes.every((t) => t !== undefined);
    const ackedAt = ackedAll ? Math.max(...(ackTimes as number[])) : undefined;
    const done = await next('done', Math.max(0, deadline - now()) + 10_000);
    const end = now();
    await phase('measure-end');

    const perSecond = (at: number | undefined) => (at === undefined ? undefined : params.messages / ((at - start) / 1000));
    const missing = params.messages - done.latenciesMs.length;
    const result: LoadResult = {
      completed: done.latenciesMs.length,
      seconds: ((done.firstAllAt ?? end) - start) / 1000,
      p50Ms: percentile(done.latenciesMs, 50),
      p99Ms: percentile(done.latenciesMs, 99),
      errors: errors + done.errors + missing + (ackedAll ? 0 : 1),
      loadCpuPct: cpuPercent(cpu, (end - start) / 1000),
      receiverCpuPct: done.cpuPct,
      queuedMsgPerSec: acked.length / ((queuedAt - start) / 1000),
    };
    const delivered = perSecond(done.firstAllAt);
    const ackedRate = perSecond(ackedAt);
    const second = perSecond(done.secondAllAt);
    if (delivered !== undefined) result.msgPerSec = delivered;
    if (ackedRate !== undefined) result.ackedMsgPerSec = ackedRate;
    if (second !== undefined) result.secondDeviceMsgPerSec = second;
    return result;
  } finally {
    await sender?.dispose();
    if (child.exitCode === null && child.signalCode === null) {
      // Closing the IPC channel ends the receiver (it closes its clients first); kill it if it lingers.
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.connected) child.disconnect();
      else child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 6_000);
      await exited;
      clearTimeout(timer);
    }
  }
}
