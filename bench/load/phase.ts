/** The load generator's side of the IPC: announce a phase, wait until the runner has sampled. */
import type { LoadToRunner, Phase, RunnerToLoad } from '../ipc.js';

const waiting: Array<() => void> = [];

process.on('message', (message: RunnerToLoad) => {
  if (message.type === 'continue') waiting.shift()?.();
});

export function send(message: LoadToRunner): void {
  process.send?.(message);
}

export function phase(name: Phase): Promise<void> {
  if (!process.send) return Promise.resolve(); // run by hand, without a runner
  return new Promise((resolve) => {
    waiting.push(resolve);
    send({ type: 'phase', phase: name });
  });
}

/** CPU time of this process as % of one core between two `process.cpuUsage()` readings. */
export function cpuPercent(start: NodeJS.CpuUsage, seconds: number): number {
  const used = process.cpuUsage(start);
  return seconds > 0 ? ((used.user + used.system) / 1e6 / seconds) * 100 : 0;
}
