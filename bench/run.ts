/**
 * `npm run bench`: runs every scenario against every target, each target and each load
 * generator in its own process on 127.0.0.1, three runs by default; prints the table with the
 * medians, the ratios and the issue's targets; writes bench/results/latest.json.
 * Settings: bench/config.ts (BENCH_QUICK=1 for a seconds-long smoke run).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { clusterServicesMissing } from './cluster-services.js';
import { CLUSTER_SCENARIOS, loadConfig, type BenchConfig, type ScenarioName, type SdkStore, type TargetName } from './config.js';
import type { LoadJob, LoadResult, LoadToRunner, RunnerToLoad } from './ipc.js';
import { cpuPressureMicros, cpuSeconds, openFileLimit, rssKiB, supervise } from './proc.js';
import { CHROMIUM_PATH, SLOW_4G } from './load/first-load.js';
import { checks, clusterSummary, renderTables, type RunRecord } from './report.js';
import { databaseDirectoryNote, sealpostOverrides, startTarget, type RunningTarget } from './targets/launch.js';

const LOAD_MAIN = join(import.meta.dirname, 'load', 'main.js');
const SEALPOST_CLI = join(import.meta.dirname, '..', 'bin', 'sealpost.js');

/** How long one load generator may take before the runner kills it (setup included). */
function loadLifetimeMs(config: BenchConfig, scenario: ScenarioName): number {
  const pairs = (p: BenchConfig['chat']) => (p.warmupSeconds + p.seconds) * 1000 + 60_000;
  switch (scenario) {
    case 'a':
      return pairs(config.chat);
    case 'b':
      return pairs(config.burst);
    case 'c':
      return config.drain.timeoutMs + 120_000;
    case 'd':
      return 240_000;
    case 'e':
      return config.crypto.seconds * 2000 + 30_000;
    case 'f':
      return config.sdk.timeoutMs + 90_000;
    case 'g':
      return 180_000;
    case 'h':
      // The load process's own watchdog (5 minutes) ends it first.
      return 290_000;
    case 'i':
      // Each load is bounded (30 s) by the load generator; slow 4G loads take a few seconds.
      return (config.firstLoad.loads + 1) * 30_000 + 30_000;
  }
}

/** Scenarios without a relay: the load generator runs the protocol code in-process. */
const IN_PROCESS: readonly ScenarioName[] = ['e', 'g'];
/** Scenarios that exercise sealpost only (no baseline speaks its protocol). */
const SEALPOST_ONLY: readonly ScenarioName[] = ['c', 'e', 'f', 'g', 'h', 'i'];
/** (i) needs the built web app (BENCH_WEB_DIR, else dist/web) and Debian's Chromium. */
const WEB_DIR = process.env['BENCH_WEB_DIR'] ?? join(import.meta.dirname, '..', 'web');

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** RSS after letting the target settle and asking it (targets/gc-hook.ts) for a full GC. */
async function settledRss(pid: number, settleMs: number): Promise<number> {
  await sleep(settleMs);
  process.kill(pid, 'SIGUSR2');
  await sleep(300);
  return rssKiB(pid);
}

/** Rows left in sealpost's queue table (read after the relay stopped and checkpointed). */
function queueRows(dbFile: string): number | undefined {
  if (!existsSync(dbFile)) return undefined;
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT count(*) AS n FROM queue').get() as { n: number } | undefined;
    return row?.n;
  } catch {
    return undefined;
  } finally {
    db.close();
  }
}

/** Forks one load generator for `job`, answering its phases with samples of the target process. */
async function drive(job: LoadJob, target: RunningTarget | undefined, config: BenchConfig, record: RunRecord): Promise<LoadResult> {
  const debug = process.env['BENCH_DEBUG'] === '1';
  const child = fork(LOAD_MAIN, [], { stdio: ['ignore', 'inherit', debug ? 'inherit' : 'pipe', 'ipc'] });
  const load = supervise(child, loadLifetimeMs(config, job.scenario));
  const pid = target?.child.pid;
  let cpuAt: { cpu: number; wall: number } | undefined;
  // Over (a) and (b)'s measured interval: every probe of the target (one relay, or the cluster's
  // nodes, PostgreSQL and Redis).
  const probes = target?.probes ?? [];
  let probesAt: { cpu: number[]; wall: number } | undefined;
  let countersAt: Record<string, number> | undefined;
  // (h) the relay's RSS sampled every 100 ms between 'transfer-start' and 'transfer-end'.
  let rssTimer: NodeJS.Timeout | undefined;
  const sampleRss = (): void => {
    if (pid === undefined) return;
    try {
      record.rssPeakKiB = Math.max(record.rssPeakKiB ?? 0, rssKiB(pid));
    } catch {
      // the relay is gone: the run fails elsewhere
    }
  };
  try {
    return await new Promise<LoadResult>((resolve, reject) => {
      child.on('message', (message: LoadToRunner) => {
        const reply = (): void => void child.send({ type: 'continue' } satisfies RunnerToLoad);
        if (message.type === 'result') resolve(message.result);
        else if (message.type === 'error') reject(new Error(message.message));
        else if (pid === undefined) reply();
        else if (message.phase === 'measure-start') {
          probesAt = { cpu: probes.map((p) => p.cpuSeconds()), wall: performance.now() };
          // The CPU is sampled first: the counters' query must not delay the interval's start.
          if (target?.counters) {
            void target.counters().then(
              (counters) => {
                countersAt = counters;
                reply();
              },
              () => reply(),
            );
          } else reply();
        } else if (message.phase === 'measure-end') {
          if (probesAt) {
            const wall = (performance.now() - probesAt.wall) / 1000;
            const used: Record<string, number> = {};
            let relay = 0;
            probes.forEach((p, i) => {
              const seconds = p.cpuSeconds() - (probesAt?.cpu[i] ?? 0);
              used[p.name] = seconds;
              if (p.relay) relay += seconds;
            });
            record.cpuSeconds = { ...used, relay };
            record.serverCpuPct = (relay / wall) * 100;
          }
          const before = countersAt;
          if (target?.counters && before) {
            void target.counters().then(
              (after) => {
                record.postgres = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
                reply();
              },
              () => reply(),
            );
          } else reply();
        } else if (message.phase === 'transfer-start') {
          void settledRss(pid, config.idle.settleMs).then((rss) => {
            record.rssBeforeKiB = rss;
            record.rssPeakKiB = rss;
            rssTimer = setInterval(sampleRss, 100);
            reply();
          });
        } else if (message.phase === 'transfer-end') {
          clearInterval(rssTimer);
          rssTimer = undefined;
          sampleRss();
          reply();
        } else if (message.phase === 'before-connect') {
          void settledRss(pid, config.idle.settleMs).then((rss) => {
            record.rssBeforeKiB = rss;
            cpuAt = { cpu: cpuSeconds(pid), wall: performance.now() };
            reply();
          });
        } else if (message.phase === 'connected') {
          if (cpuAt) record.serverCpuPct = ((cpuSeconds(pid) - cpuAt.cpu) / ((performance.now() - cpuAt.wall) / 1000)) * 100;
          void settledRss(pid, config.idle.settleMs).then((rss) => {
            record.rssAfterKiB = rss;
            reply();
          });
        }
      });
      child.once('exit', (code) => reject(new Error(`load generator exited with ${code}: ${load.stderrTail().slice(-800)}`)));
      child.send({ type: 'job', job } satisfies RunnerToLoad);
    });
  } finally {
    clearInterval(rssTimer);
    await load.stop(2_000);
  }
}

async function runOne(config: BenchConfig, run: number, scenario: ScenarioName, targetName: TargetName, store?: SdkStore): Promise<RunRecord> {
  const record: RunRecord = { run, scenario, target: targetName, ...(store === undefined ? {} : { store }) };
  // The SDK always speaks msgpack: (f) runs the relay with it whatever BENCH_PARSER says. The
  // cluster's nodes are sealpost relays: they speak what the single relay speaks (the bare
  // Socket.IO targets speak json).
  const relay = targetName === 'sealpost' || targetName === 'cluster';
  const parser = scenario === 'f' ? 'msgpack' : relay ? config.sealpostParser : 'json';
  let target: RunningTarget | undefined;
  const burners = targetName === 'sealpost' && CLUSTER_SCENARIOS.includes(scenario) ? startBurners(config.burners) : [];
  const pressureAt = { micros: cpuPressureMicros(), wall: performance.now() };
  try {
    // (i) the relay serves the built web app; the others an empty folder.
    if (!IN_PROCESS.includes(scenario)) target = await startTarget(targetName, parser, config.clusterNodes, scenario === 'i' ? WEB_DIR : undefined);
    const job: LoadJob = { scenario, target: targetName, url: target?.url ?? '', urls: target?.urls ?? [], parser, config, ...(store === undefined ? {} : { store }) };
    record.result = await drive(job, target, config, record);
    if (record.rssBeforeKiB !== undefined && record.rssAfterKiB !== undefined && record.result.connections) {
      record.perConnectionKiB = (record.rssAfterKiB - record.rssBeforeKiB) / record.result.connections;
    }
    if (record.result.errors > 0) record.error = `${record.result.errors} envelopes refused, lost or timed out`;
  } catch (error) {
    record.error = error instanceof Error ? error.message : String(error);
  } finally {
    for (const burner of burners) burner.kill('SIGKILL');
    if (target) {
      await target.stop();
      if (scenario === 'c' && target.dbFile) record.queueLeft = queueRows(target.dbFile);
      target.cleanup();
    }
    const micros = cpuPressureMicros();
    if (micros !== undefined && pressureAt.micros !== undefined) {
      record.cpuPressurePct = ((micros - pressureAt.micros) / ((performance.now() - pressureAt.wall) * 1000)) * 100;
    }
  }
  return record;
}

/** BENCH_BURNERS busy loops (config.ts: the single relay under the cluster's CPU pressure). */
function startBurners(count: number): ChildProcess[] {
  return Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

function machine(): Record<string, unknown> {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const started = Date.now();
  const deadline = started + config.budgetMs;
  let targets = config.targets;
  const notes: string[] = [];
  const overrides = sealpostOverrides();
  notes.push(`sealpost ran with the ${config.sealpostParser} Socket.IO parser (BENCH_PARSER=msgpack|json)`);
  if (config.burners > 0) notes.push(`sealpost's (a) and (b) ran beside ${config.burners} busy loops (BENCH_BURNERS): under CPU pressure, as the cluster's nodes run`);
  if (overrides.cli || overrides.args.length) notes.push(`sealpost overridden: ${JSON.stringify(overrides)}`);
  if (targets.includes('sealpost') && !existsSync(SEALPOST_CLI)) {
    targets = targets.filter((t) => t !== 'sealpost');
    notes.push('sealpost skipped: dist/bin/sealpost.js is not built');
  }
  if (targets.includes('cluster')) {
    const missing = existsSync(SEALPOST_CLI) ? clusterServicesMissing() : 'dist/bin/sealpost.js is not built';
    if (missing !== undefined) {
      targets = targets.filter((t) => t !== 'cluster');
      notes.push(`cluster skipped: ${missing}`);
    } else if (config.scenarios.some((s) => CLUSTER_SCENARIOS.includes(s))) {
      notes.push(
        `cluster: ${config.clusterNodes} sealpost nodes (serve --postgres --redis, the same limits as sealpost) on one fresh PostgreSQL database (durability defaults: fsync and synchronous_commit on) and one Redis (no persistence), all in ${tmpdir()} on 127.0.0.1; ` +
          `in (a) and (b) sender p connects to node p mod ${config.clusterNodes} and its recipient to node p+1 mod ${config.clusterNodes}; CPU per message = CPU seconds over the measured interval / messages completed in it`,
      );
    }
  }
  if (targets.includes('sealpost') || targets.includes('cluster')) notes.push(databaseDirectoryNote());
  if (targets.includes('sealpost') && config.scenarios.includes('f')) {
    notes.push(`(f) the clients' file profile stores were in ${tmpdir()} too; layout: relay, sender (alice) and recipient (bob's two devices) in three processes`);
    if (config.sealpostParser !== 'msgpack') notes.push('(f) ran the relay with the msgpack parser: the SDK speaks only msgpack');
    if (process.env['BENCH_SDK_YIELD'] === '1') notes.push('(f) BENCH_SDK_YIELD=1: the sender let the event loop turn between two send() calls');
  }
  if (targets.includes('sealpost') && config.scenarios.includes('h')) {
    notes.push(
      `(h) one ${(config.attachment.bytes / 2 ** 20).toFixed(0)} MiB file of random bytes: SDK MiB/s are of the file (encrypt + upload, download + decrypt; two clients in the load process, memory stores), ` +
        'curl MiB/s of as many bytes as its blob (one curl process per 4 MiB PATCH, then one GET; process start-up included); relay RSS growth = peak (sampled every 100 ms) minus RSS before, after a GC',
    );
  }
  let scenarios = config.scenarios;
  if (scenarios.includes('i')) {
    const missing = !existsSync(join(WEB_DIR, 'index.html')) ? `${WEB_DIR} is not built (npm run build)` : !existsSync(CHROMIUM_PATH) ? `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium; the bench never downloads one)` : undefined;
    if (missing !== undefined || !targets.includes('sealpost')) {
      scenarios = scenarios.filter((s) => s !== 'i');
      notes.push(`(i) skipped: ${missing ?? 'the sealpost target is not running'}`);
    } else {
      notes.push(
        `(i) Chromium ${CHROMIUM_PATH} on an emulated link of ${(SLOW_4G.downloadThroughput * 8) / 1e6} Mbit/s down, ${(SLOW_4G.uploadThroughput * 8) / 1e6} Mbit/s up, ${SLOW_4G.latency} ms latency (CDP Network.emulateNetworkConditions), cache disabled, a fresh context per load (no service worker); ` +
          `time from navigation start to the handle field visible and enabled; median of ${config.firstLoad.loads} loads after one warm-up load, per run`,
      );
    }
  }
  if (config.scenarios.includes('d')) {
    const limit = openFileLimit();
    // The target holds one descriptor per connection, the load generator another: both start with this limit.
    if (limit !== undefined && config.idle.connections + 200 > limit.hard) {
      notes.push(`(d) ${config.idle.connections} connections need as many open files per process, but this machine allows ${limit.hard} (ulimit -n); raise the limit (prlimit, LimitNOFILE) or lower BENCH_IDLE`);
    }
    if (config.idle.sourceAddresses > 1) notes.push(`(d) connections came from ${Math.min(config.idle.sourceAddresses, 254)} loopback source addresses (127.0.0.1…), round robin`);
  }
  const records: RunRecord[] = [];
  for (let run = 1; run <= config.runs; run++) {
    if (Date.now() > deadline) {
      notes.push(`runs ${run}..${config.runs} skipped: time budget spent`);
      break;
    }
    for (const scenario of scenarios) {
      // Rotate the order each run so no target always runs first (or last) on a warm machine.
      const order = IN_PROCESS.includes(scenario)
        ? ['sealpost' as const]
        : SEALPOST_ONLY.includes(scenario)
          ? targets.filter((t) => t === 'sealpost')
          : rotate(targets, run - 1).filter((t) => t !== 'cluster' || CLUSTER_SCENARIOS.includes(scenario));
      // (f) runs once per profile store, the order rotated like the targets'.
      const stores: ReadonlyArray<SdkStore | undefined> = scenario === 'f' ? rotate(config.sdk.stores, run - 1) : [undefined];
      for (const [target, store] of order.flatMap((t) => stores.map((s) => [t, s] as const))) {
        if (Date.now() > deadline) break;
        const record = await runOne(config, run, scenario, target, store);
        records.push(record);
        const r = record.result;
        process.stderr.write(
          `run ${run} ${scenario}${store === undefined ? '' : `/${store}`} ${target}: ${record.error ?? 'ok'}` +
            (typeof r?.msgPerSec === 'number' ? ` ${Math.round(r.msgPerSec)} msg/s` : '') +
            (typeof r?.p99Ms === 'number' ? ` p99 ${r.p99Ms.toFixed(2)} ms` : '') +
            (record.perConnectionKiB !== undefined ? ` ${record.perConnectionKiB.toFixed(1)} KiB/conn` : '') +
            (record.cpuPressurePct !== undefined ? ` (CPU pressure ${Math.round(record.cpuPressurePct)} %)` : '') +
            '\n',
        );
      }
    }
  }
  const text = renderTables(records, scenarios);
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`\n${text}\n\n${notes.map((n) => `note: ${n}\n`).join('')}medians of ${config.runs} run(s); ${seconds.toFixed(0)} s; machine ${JSON.stringify(machine())}\n`);
  mkdirSync(dirname(config.outFile), { recursive: true });
  writeFileSync(config.outFile, `${JSON.stringify({ startedAt: new Date(started).toISOString(), seconds, machine: machine(), config, notes, checks: checks(records), cluster: clusterSummary(records), table: text, records }, null, 2)}\n`);
  process.stdout.write(`results: ${config.outFile}\n`);
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = items.length === 0 ? 0 : by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
