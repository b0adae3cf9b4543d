/**
 * Scenario (f), the recipient's process: bob's two devices (the first registered, the second
 * linked through the SDK and approved on the first), in one process of their own, forked by the
 * sender's load generator (sdk-burst.ts). Each device counts the burst's messages as its
 * `message` events fire; the first device also records every message's send → received
 * latency from the send time the text carries. Ends with its parent (the IPC channel closing).
 */
import { ready } from '../../crypto/sodium.js';
import type { SealpostClient } from '../../client/sdk/node.js';
import { cpuPercent } from './phase.js';
import { WARMUP_SEQ, connected, now, openClient, parseBurstText, type FromReceiver, type SdkBenchClient, type ToReceiver } from './sdk-clients.js';

const WATCHDOG_MS = 5 * 60_000;

function tell(message: FromReceiver): void {
  process.send?.(message);
}

interface Tally {
  seen: Uint8Array;
  count: number;
  warm: boolean;
  allAt?: number;
}

let disposers: SdkBenchClient[] = [];

async function shutdown(code: number): Promise<never> {
  await Promise.all(disposers.map((d) => d.dispose()));
  disposers = [];
  // Let the last IPC message flush.
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.exit(code);
}

async function start(job: Extract<ToReceiver, { type: 'start' }>): Promise<void> {
  await ready();
  const latencies = new Float64Array(job.messages).fill(Number.NaN);
  const tallies: Tally[] = [0, 1].map(() => ({ seen: new Uint8Array(job.messages), count: 0, warm: false }));
  let errors = 0;
  let burst: { cpu: NodeJS.CpuUsage; at: number; timer: ReturnType<typeof setTimeout> } | undefined;
  let finished = false;

  const finish = (): void => {
    if (finished || burst === undefined) return;
    finished = true;
    clearTimeout(burst.timer);
    const [first, second] = tallies;
    tell({
      type: 'done',
      latenciesMs: [...latencies].filter((l) => Number.isFinite(l)),
      ...(first?.allAt === undefined ? {} : { firstAllAt: first.allAt }),
      ...(second?.allAt === undefined ? {} : { secondAllAt: second.allAt }),
      errors,
      cpuPct: cpuPercent(burst.cpu, (now() - burst.at) / 1000),
    });
  };

  const listen = (client: SealpostClient, index: number): void => {
    const tally = tallies[index] as Tally;
    client.on('message', (event) => {
      if (event.from !== job.alice) return;
      const at = now();
      const parsed = parseBurstText(event.text);
      if (parsed === undefined) {
        errors++;
        return;
      }
      if (parsed.seq === WARMUP_SEQ) {
        tally.warm = true;
        if (tallies.every((t) => t.warm)) tell({ type: 'warm' });
        return;
      }
      if (parsed.seq < 0 || parsed.seq >= job.messages || tally.seen[parsed.seq] === 1) return;
      tally.seen[parsed.seq] = 1;
      tally.count++;
      if (index === 0) latencies[parsed.seq] = at - parsed.sentAt;
      if (tally.count === job.messages) {
        tally.allAt = at;
        if (tallies.every((t) => t.allAt !== undefined)) finish();
      }
    });
    client.on('rejected', () => errors++);
    client.on('error', () => errors++);
  };

  const first = await openClient(job.store, 'bob1');
  disposers.push(first);
  listen(first.client, 0);
  await first.client.register(job.url, job.bob);
  await connected(first.client, 'bob');

  // The SDK's link: the new device shows a code, the authority device approves it; approveLink
  // resolves only after the new device registered, connected and announced itself.
  const second = await openClient(job.store, 'bob2');
  disposers.push(second);
  listen(second.client, 1);
  const pending = second.client.startLink(job.url, { pollMs: 50 });
  const approved = first.client.approveLink(pending.code, { timeoutMs: 15_000 });
  await pending.completed;
  await connected(second.client, "bob's second device");
  await approved;
  tell({ type: 'ready' });

  process.on('message', (message: ToReceiver) => {
    if (message.type !== 'burst' || burst !== undefined) return;
    burst = { cpu: process.cpuUsage(), at: now(), timer: setTimeout(finish, job.timeoutMs) };
    if (tallies.every((t) => t.allAt !== undefined)) finish();
  });
}

setTimeout(() => {
  tell({ type: 'error', message: 'sdk receiver watchdog: scenario overran' });
  void shutdown(2);
}, WATCHDOG_MS).unref();

// The sender's process is gone (finished or killed): so is the reason to run.
process.on('disconnect', () => void shutdown(0));

process.once('message', (message: ToReceiver) => {
  if (message.type !== 'start') return;
  start(message).catch((error: unknown) => {
    tell({ type: 'error', message: `receiver: ${error instanceof Error ? error.message : String(error)}` });
    void shutdown(1);
  });
});
