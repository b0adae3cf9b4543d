/**
 * Benchmark settings, read once from flags and environment variables, then frozen. Full runs
 * follow issue 7's counts; BENCH_QUICK=1 (or --quick) scales every count and duration down to a
 * seconds-long smoke run that still exercises every code path.
 */
export const TARGETS = ['sealpost', 'bare-socketio', 'raw-ws', 'cluster'] as const;
export type TargetName = (typeof TARGETS)[number];

/**
 * The cluster target: `clusterNodes` sealpost nodes (`serve --postgres --redis`) on one fresh
 * PostgreSQL database and one Redis. It runs shapes (a) and (b) only, its clients spread over
 * the nodes with every sender on another node than its recipient; the report sets it beside
 * single-node sealpost (SQLite) of the same run. BENCH_TARGETS=sealpost,cluster BENCH_SCENARIOS=a,b
 * runs just that comparison.
 */
export const CLUSTER_SCENARIOS: readonly ScenarioName[] = ['a', 'b'];

export const SCENARIOS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** (f) runs once per profile store: FilePersistence (fdatasync'd journal, as the CLI) and MemoryPersistence (no disk). */
export const SDK_STORES = ['file', 'memory'] as const;
export type SdkStore = (typeof SDK_STORES)[number];

/** msgpack: socket.io-msgpack-parser, the relay's default; json: Socket.IO's stock parser. */
export type ParserName = 'msgpack' | 'json';

export interface BenchConfig {
  quick: boolean;
  runs: number;
  targets: readonly TargetName[];
  /** Relay nodes of the cluster target (BENCH_CLUSTER_NODES, default 3). */
  clusterNodes: number;
  scenarios: readonly ScenarioName[];
  /** (a) chat-like: many pairs, one message in flight per pair. */
  chat: PairsParams;
  /** (b) bursts: few pairs, 32 messages in flight per pair. */
  burst: PairsParams;
  drain: { devices: number; envelopes: number; senders: number; timeoutMs: number };
  /**
   * (d): `sourceAddresses` loopback addresses (127.0.0.1…) the connections come from, so that
   * tens of thousands of them do not exhaust one source's ephemeral ports (BENCH_IDLE_SOURCES;
   * by default one per 10,000 connections). Each process also needs a file descriptor per
   * connection: `ulimit -n` bounds N (the runner notes when it is too low).
   */
  idle: { connections: number; concurrency: number; settleMs: number; sourceAddresses: number };
  crypto: { seconds: number; maxOps: number };
  /** (f) SDK burst: one SealpostClient sends `messages` texts to a contact with two devices. */
  sdk: { messages: number; timeoutMs: number; stores: readonly SdkStore[] };
  /** (g) forged envelopes against a device holding `sessions` sessions with the named sender. */
  forgery: { envelopes: number; sessions: number };
  /** (h) one attachment of `bytes` random bytes (BENCH_ATTACHMENT_MIB), SDK and curl, upload and download. */
  attachment: { bytes: number };
  /** (i) the web app's first load in Chromium on emulated slow 4G: loads measured per run (BENCH_FIRST_LOADS). */
  firstLoad: { loads: number };
  bodyBytes: number;
  /** Socket.IO parser the sealpost relay and its bench clients use (the bare peer keeps the stock one). */
  sealpostParser: ParserName;
  /**
   * Busy loops run beside the single relay during (a) and (b) (BENCH_BURNERS, default 0): with 2,
   * the single relay shares this 2-core machine as each cluster node shares it with the other
   * nodes, PostgreSQL and Redis — CPU per message compared under the same CPU pressure.
   */
  burners: number;
  /** Hard ceiling for the whole run; later runs are skipped once it is spent. */
  budgetMs: number;
  outFile: string;
}

export interface PairsParams {
  pairs: number;
  window: number;
  /** Measured interval, after a warm-up that is not counted. */
  seconds: number;
  warmupSeconds: number;
  /** Upper bound on messages per lane, so every loop is bounded in count as well as time. */
  maxPerLane: number;
}

function flag(argv: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  const hit = argv.find((a) => a === `--${name}` || a.startsWith(prefix));
  if (hit === undefined) return undefined;
  return hit.startsWith(prefix) ? hit.slice(prefix.length) : '1';
}

function setting(argv: readonly string[], env: NodeJS.ProcessEnv, name: string): string | undefined {
  return flag(argv, name) ?? env[`BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
}

function positiveNumber(text: string | undefined, fallback: number, what: string): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`bench: ${what} must be a positive number, got ${text}`);
  return value;
}

function list<T extends string>(text: string | undefined, allowed: readonly T[], what: string): readonly T[] {
  if (text === undefined || text === '') return allowed;
  const items = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new Error(`bench: unknown ${what} ${item} (know ${allowed.join(', ')})`);
  }
  return items as T[];
}

export function loadConfig(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const quick = ['1', 'true', 'yes'].includes(setting(argv, env, 'quick') ?? '');
  const seconds = positiveNumber(setting(argv, env, 'seconds'), quick ? 1.5 : 6, 'seconds');
  // Five seconds of (a) and (b) before the measured interval (BENCH_WARMUP): the figures are of
  // processes in their steady state, not of V8 still compiling. With one second, each cluster
  // node (at a third of the single relay's rate) was still optimising its code in the measured
  // interval and its CPU per message came out ~1.7x its steady figure (docs/performance.md).
  // Longer would be steadier still, but the full bench already takes about 10 minutes.
  const warmupSeconds = positiveNumber(setting(argv, env, 'warmup'), quick ? 0.3 : 5, 'warmup');
  const parser = setting(argv, env, 'parser') ?? 'msgpack';
  const burners = setting(argv, env, 'burners');
  if (parser !== 'msgpack' && parser !== 'json') throw new Error(`bench: parser must be msgpack or json, got ${parser}`);
  const idleConnections = Math.round(positiveNumber(setting(argv, env, 'idle'), quick ? 200 : 10_000, 'idle'));
  const config: BenchConfig = {
    quick,
    runs: Math.round(positiveNumber(setting(argv, env, 'runs'), quick ? 1 : 3, 'runs')),
    targets: list(setting(argv, env, 'targets'), TARGETS, 'target'),
    clusterNodes: Math.round(positiveNumber(setting(argv, env, 'cluster-nodes'), 3, 'cluster-nodes')),
    scenarios: list(setting(argv, env, 'scenarios'), SCENARIOS, 'scenario'),
    chat: { pairs: quick ? 10 : 100, window: 1, seconds, warmupSeconds, maxPerLane: 1_000_000 },
    burst: { pairs: quick ? 4 : 10, window: 32, seconds, warmupSeconds, maxPerLane: 1_000_000 },
    drain: {
      devices: quick ? 10 : 100,
      envelopes: Math.round(positiveNumber(setting(argv, env, 'drain'), quick ? 2_000 : 100_000, 'drain')),
      senders: quick ? 2 : 10,
      timeoutMs: quick ? 30_000 : 120_000,
    },
    idle: {
      connections: idleConnections,
      concurrency: 100,
      settleMs: quick ? 500 : 1_500,
      sourceAddresses: Math.round(positiveNumber(setting(argv, env, 'idle-sources'), Math.max(1, Math.ceil(idleConnections / 10_000)), 'idle-sources')),
    },
    crypto: { seconds: quick ? 1 : 3, maxOps: 1_000_000 },
    sdk: {
      messages: Math.round(positiveNumber(setting(argv, env, 'sdk-messages'), quick ? 100 : 1_000, 'sdk-messages')),
      timeoutMs: quick ? 60_000 : 120_000,
      stores: list(setting(argv, env, 'sdk-stores'), SDK_STORES, 'profile store'),
    },
    forgery: { envelopes: Math.round(positiveNumber(setting(argv, env, 'forgeries'), quick ? 200 : 2_000, 'forgeries')), sessions: 4 },
    attachment: { bytes: Math.round(positiveNumber(setting(argv, env, 'attachment-mib'), quick ? 8 : 100, 'attachment-mib') * 1024 * 1024) },
    firstLoad: { loads: Math.round(positiveNumber(setting(argv, env, 'first-loads'), quick ? 2 : 5, 'first-loads')) },
    bodyBytes: 1024,
    sealpostParser: parser,
    burners: burners === '0' ? 0 : Math.round(positiveNumber(burners, 0, 'burners')),
    budgetMs: positiveNumber(setting(argv, env, 'budget'), quick ? 120 : 720, 'budget') * 1000,
    outFile: setting(argv, env, 'out') ?? 'bench/results/latest.json',
  };
  return Object.freeze(config);
}
