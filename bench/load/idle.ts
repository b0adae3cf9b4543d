/**
 * Scenario (d): `connections` idle authenticated connections. The runner samples the target's
 * RSS once the devices exist and nothing is connected, and again after all are up and the
 * target has settled; (after − before) / N is the memory per connection.
 */
import type { BenchConfig } from '../config.js';
import type { LoadResult } from '../ipc.js';
import { mapLimit, type BenchClient, type Driver } from './driver.js';
import { cpuPercent, phase } from './phase.js';

export async function runIdle(driver: Driver, params: BenchConfig['idle']): Promise<LoadResult> {
  const devices = await driver.createDevices(params.connections);
  await phase('before-connect');
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let errors = 0;
  const clients = await mapLimit(devices, params.concurrency, (device) =>
    driver.connect(device).catch((): BenchClient | undefined => {
      errors++;
      return undefined;
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const loadCpuPct = cpuPercent(cpuStart, seconds);
  await phase('connected');
  for (const client of clients) client?.close();
  const connections = clients.filter(Boolean).length;
  return { completed: connections, connections, seconds, connectSeconds: seconds, errors, loadCpuPct };
}
