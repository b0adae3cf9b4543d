/**
 * A load-generator process, forked by bench/run.ts. It waits for one job over IPC, runs that
 * scenario against one target, reports the result and exits. It never outlives its job: a
 * watchdog ends it if the scenario overruns.
 */
import { ready } from '../../crypto/sodium.js';
import type { LoadJob, LoadResult, RunnerToLoad } from '../ipc.js';
import { runAttachments } from './attachments.js';
import { runCrypto } from './crypto.js';
import type { Driver } from './driver.js';
import { runDrain } from './drain.js';
import { runFirstLoad } from './first-load.js';
import { runForgery } from './forgery.js';
import { runIdle } from './idle.js';
import { runPairs } from './pairs.js';
import { send } from './phase.js';
import { rawWsDriver } from './raw-ws-driver.js';
import { runSdkBurst } from './sdk-burst.js';
import { socketIoDriver } from './socketio-driver.js';

const WATCHDOG_MS = 5 * 60_000;

function driverFor(job: LoadJob): Driver {
  // Only (d) opens enough sockets to need more than one loopback source address.
  const sourceAddresses = job.scenario === 'd' ? job.config.idle.sourceAddresses : 1;
  switch (job.target) {
    case 'sealpost':
    case 'cluster':
      // The cluster's only difference: several URLs, each device on the node pairs.ts placed it.
      return socketIoDriver({ urls: job.urls?.length ? job.urls : [job.url], parser: job.parser, authenticated: true, sourceAddresses });
    case 'bare-socketio':
      return socketIoDriver({ urls: [job.url], parser: 'json', authenticated: false, sourceAddresses });
    case 'raw-ws':
      return rawWsDriver(job.url, sourceAddresses);
  }
}

async function run(job: LoadJob): Promise<LoadResult> {
  await ready();
  const { config } = job;
  switch (job.scenario) {
    case 'a':
      return runPairs(driverFor(job), config.chat, config.bodyBytes);
    case 'b':
      return runPairs(driverFor(job), config.burst, config.bodyBytes);
    case 'c':
      return runDrain(driverFor(job), config.drain, config.bodyBytes);
    case 'd':
      return runIdle(driverFor(job), config.idle);
    case 'e':
      return runCrypto(config.crypto, config.bodyBytes);
    case 'f':
      return runSdkBurst(job.url, job.store ?? 'file', config.sdk, config.bodyBytes);
    case 'g':
      return runForgery(config.forgery, config.bodyBytes);
    case 'h':
      return runAttachments(job.url, config.attachment);
    case 'i':
      return runFirstLoad(job.url, config.firstLoad);
  }
}

setTimeout(() => {
  send({ type: 'error', message: 'load generator watchdog: scenario overran' });
  process.exit(2);
}, WATCHDOG_MS).unref();

// The runner stops a finished generator with SIGTERM: leave through exit() so `--cpu-prof` still writes its profile.
process.once('SIGTERM', () => process.exit(143));

process.once('message', (message: RunnerToLoad) => {
  if (message.type !== 'job') return;
  run(message.job).then(
    (result) => {
      send({ type: 'result', result });
      // Let the IPC message flush, then leave even if sockets linger.
      setTimeout(() => process.exit(0), 50);
    },
    (error: unknown) => {
      send({ type: 'error', message: error instanceof Error ? error.message : String(error) });
      setTimeout(() => process.exit(1), 50);
    },
  );
});
