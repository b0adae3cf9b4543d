/**
 * Turns per-run records into medians, per-run ratios (sealpost ÷ baseline, measured in the same
 * run, then the median of those), the issue's targets as pass/fail, and a plain-text table.
 */
import { CLUSTER_SCENARIOS, SDK_STORES, type ScenarioName, type SdkStore, type TargetName } from './config.js';
import type { LoadResult } from './ipc.js';
import { median, round } from './stats.js';

export interface RunRecord {
  run: number;
  scenario: ScenarioName;
  target: TargetName;
  /** (f) the clients' profile store. */
  store?: SdkStore;
  result?: LoadResult;
  /** Target process CPU over the measured interval, % of one core (the cluster: its relay nodes summed). */
  serverCpuPct?: number;
  /**
   * (a), (b): CPU seconds over the measured interval per probe of the target — `relay` (the
   * relay process, or the cluster's nodes summed), and for the cluster `node 1`…, `postgres`, `redis`.
   */
  cpuSeconds?: Record<string, number>;
  /** (a), (b) on the cluster: PostgreSQL's counters over the measured interval (WAL bytes, flushes, commits, row writes). */
  postgres?: Record<string, number>;
  rssBeforeKiB?: number;
  rssAfterKiB?: number;
  /** (h) the relay's highest RSS sampled during the transfers. */
  rssPeakKiB?: number;
  perConnectionKiB?: number;
  /** Share of the run's wall time during which some task waited for a CPU (Linux PSI): contention from anything on the machine. */
  cpuPressurePct?: number;
  /** (c) rows left in the sealpost queue after the drain. */
  queueLeft?: number;
  error?: string;
}

/** CPU µs of one probe (`relay`, `node 2`, `postgres`, …) per message completed in the measured interval. */
export function cpuPerMessageUs(r: RunRecord, probe: string): number | undefined {
  const seconds = r.cpuSeconds?.[probe];
  const completed = r.result?.completed;
  return seconds === undefined || !completed ? undefined : (seconds / completed) * 1e6;
}

export interface MetricSpec {
  scenario: ScenarioName;
  /** (f) the profile store the row is about: shown only when that store ran. */
  store?: SdkStore;
  key: string;
  label: string;
  pick: (r: RunRecord) => number | undefined;
  digits: number;
}

export const METRICS: readonly MetricSpec[] = [
  { scenario: 'a', key: 'msgPerSec', label: 'msg/s', pick: (r) => r.result?.msgPerSec, digits: 0 },
  { scenario: 'a', key: 'p50Ms', label: 'p50 ms (complete)', pick: (r) => r.result?.p50Ms, digits: 2 },
  { scenario: 'a', key: 'p99Ms', label: 'p99 ms (complete)', pick: (r) => r.result?.p99Ms, digits: 2 },
  { scenario: 'a', key: 'relayAckP50Ms', label: 'p50 ms (sender ack)', pick: (r) => r.result?.relayAckP50Ms, digits: 2 },
  { scenario: 'a', key: 'relayAckP99Ms', label: 'p99 ms (sender ack)', pick: (r) => r.result?.relayAckP99Ms, digits: 2 },
  { scenario: 'a', key: 'serverCpuPct', label: 'server CPU %', pick: (r) => r.serverCpuPct, digits: 0 },
  { scenario: 'a', key: 'serverCpuUsPerMsg', label: 'server CPU µs/msg', pick: (r) => cpuPerMessageUs(r, 'relay'), digits: 0 },
  { scenario: 'a', key: 'loadCpuPct', label: 'load CPU %', pick: (r) => r.result?.loadCpuPct, digits: 0 },
  { scenario: 'b', key: 'msgPerSec', label: 'msg/s', pick: (r) => r.result?.msgPerSec, digits: 0 },
  { scenario: 'b', key: 'p50Ms', label: 'p50 ms (complete)', pick: (r) => r.result?.p50Ms, digits: 2 },
  { scenario: 'b', key: 'p99Ms', label: 'p99 ms (complete)', pick: (r) => r.result?.p99Ms, digits: 2 },
  { scenario: 'b', key: 'serverCpuPct', label: 'server CPU %', pick: (r) => r.serverCpuPct, digits: 0 },
  { scenario: 'b', key: 'serverCpuUsPerMsg', label: 'server CPU µs/msg', pick: (r) => cpuPerMessageUs(r, 'relay'), digits: 0 },
  { scenario: 'b', key: 'loadCpuPct', label: 'load CPU %', pick: (r) => r.result?.loadCpuPct, digits: 0 },
  { scenario: 'c', key: 'msgPerSec', label: 'drained msg/s', pick: (r) => r.result?.msgPerSec, digits: 0 },
  { scenario: 'c', key: 'seconds', label: 'time to empty s', pick: (r) => r.result?.seconds, digits: 2 },
  { scenario: 'c', key: 'queueLeft', label: 'queue rows left', pick: (r) => r.queueLeft, digits: 0 },
  { scenario: 'c', key: 'fillMsgPerSec', label: 'fill msg/s (batches of 100)', pick: (r) => r.result?.fillMsgPerSec, digits: 0 },
  { scenario: 'c', key: 'serverCpuPct', label: 'server CPU %', pick: (r) => r.serverCpuPct, digits: 0 },
  { scenario: 'c', key: 'loadCpuPct', label: 'load CPU %', pick: (r) => r.result?.loadCpuPct, digits: 0 },
  { scenario: 'd', key: 'perConnectionKiB', label: 'RSS KiB/connection', pick: (r) => r.perConnectionKiB, digits: 1 },
  { scenario: 'd', key: 'connections', label: 'connections', pick: (r) => r.result?.connections, digits: 0 },
  { scenario: 'd', key: 'connectSeconds', label: 'connect all s', pick: (r) => r.result?.connectSeconds, digits: 2 },
  { scenario: 'd', key: 'serverCpuPct', label: 'server CPU % (connecting)', pick: (r) => r.serverCpuPct, digits: 0 },
  { scenario: 'e', key: 'msgPerSec', label: '1 KiB msg/s, alternating', pick: (r) => r.result?.msgPerSec, digits: 0 },
  { scenario: 'e', key: 'oneWayPerSec', label: '1 KiB msg/s, one way', pick: (r) => r.result?.oneWayPerSec, digits: 0 },
  ...SDK_STORES.flatMap((store): MetricSpec[] => {
    const only = (pick: (r: RunRecord) => number | undefined) => (r: RunRecord) => (r.store === store ? pick(r) : undefined);
    const row = (key: string, label: string, pick: (r: RunRecord) => number | undefined, digits: number): MetricSpec => ({
      scenario: 'f', store, key: `${store}.${key}`, label: `${label} (${store} store)`, pick: only(pick), digits,
    });
    return [
      row('msgPerSec', 'delivered msg/s (1st device)', (r) => r.result?.msgPerSec, 0),
      row('secondDeviceMsgPerSec', 'delivered msg/s (2nd device)', (r) => r.result?.secondDeviceMsgPerSec, 0),
      row('ackedMsgPerSec', 'acked msg/s (all stored)', (r) => r.result?.ackedMsgPerSec, 0),
      row('p50Ms', 'p50 ms send→received', (r) => r.result?.p50Ms, 1),
      row('p99Ms', 'p99 ms send→received', (r) => r.result?.p99Ms, 1),
      row('loadCpuPct', 'sender CPU %', (r) => r.result?.loadCpuPct, 0),
      row('receiverCpuPct', 'recipient CPU %', (r) => r.result?.receiverCpuPct, 0),
      row('serverCpuPct', 'relay CPU %', (r) => r.serverCpuPct, 0),
      row('cpuPressurePct', 'CPU pressure % (PSI some)', (r) => r.cpuPressurePct, 0),
    ];
  }),
  { scenario: 'g', key: 'forgedMessageMeanUs', label: 'forged message, CPU µs mean', pick: (r) => r.result?.forgedMessageMeanUs, digits: 0 },
  { scenario: 'g', key: 'forgedMessageP99Us', label: 'forged message, CPU µs p99', pick: (r) => r.result?.forgedMessageP99Us, digits: 0 },
  { scenario: 'g', key: 'forgedMessageWallMeanUs', label: 'forged message, wall µs mean', pick: (r) => r.result?.forgedMessageWallMeanUs, digits: 0 },
  { scenario: 'g', key: 'forgedPrekeyMeanUs', label: 'forged prekey message, CPU µs mean', pick: (r) => r.result?.forgedPrekeyMeanUs, digits: 0 },
  { scenario: 'g', key: 'forgedPrekeyP99Us', label: 'forged prekey message, CPU µs p99', pick: (r) => r.result?.forgedPrekeyP99Us, digits: 0 },
  { scenario: 'g', key: 'forgedPrekeyWallMeanUs', label: 'forged prekey message, wall µs mean', pick: (r) => r.result?.forgedPrekeyWallMeanUs, digits: 0 },
  { scenario: 'g', key: 'genuineMeanUs', label: 'genuine 1 KiB message, CPU µs mean', pick: (r) => r.result?.genuineMeanUs, digits: 0 },
  { scenario: 'g', key: 'genuineP99Us', label: 'genuine 1 KiB message, CPU µs p99', pick: (r) => r.result?.genuineP99Us, digits: 0 },
  { scenario: 'g', key: 'genuineWallMeanUs', label: 'genuine 1 KiB message, wall µs mean', pick: (r) => r.result?.genuineWallMeanUs, digits: 0 },
  { scenario: 'g', key: 'cpuPressurePct', label: 'CPU pressure % (PSI some)', pick: (r) => r.cpuPressurePct, digits: 0 },
  { scenario: 'h', key: 'sdkUploadMiBps', label: 'SDK encrypt + upload MiB/s', pick: (r) => r.result?.sdkUploadMiBps, digits: 1 },
  { scenario: 'h', key: 'sdkDownloadMiBps', label: 'SDK download + decrypt MiB/s', pick: (r) => r.result?.sdkDownloadMiBps, digits: 1 },
  { scenario: 'h', key: 'curlUploadMiBps', label: 'curl PATCH 4 MiB chunks MiB/s', pick: (r) => r.result?.curlUploadMiBps, digits: 1 },
  { scenario: 'h', key: 'curlDownloadMiBps', label: 'curl GET MiB/s', pick: (r) => r.result?.curlDownloadMiBps, digits: 1 },
  { scenario: 'h', key: 'rssGrowthMiB', label: 'relay RSS peak − before, MiB', pick: rssGrowthMiB, digits: 1 },
  { scenario: 'h', key: 'rssBeforeMiB', label: 'relay RSS before, MiB', pick: (r) => (r.rssBeforeKiB === undefined ? undefined : r.rssBeforeKiB / 1024), digits: 1 },
  { scenario: 'h', key: 'cpuPressurePct', label: 'CPU pressure % (PSI some)', pick: (r) => r.cpuPressurePct, digits: 0 },
  { scenario: 'i', key: 'firstLoadMs', label: 'ms to a usable page, median', pick: (r) => r.result?.firstLoadMs, digits: 0 },
  { scenario: 'i', key: 'firstLoadMinMs', label: 'ms to a usable page, fastest load', pick: (r) => r.result?.firstLoadMinMs, digits: 0 },
  { scenario: 'i', key: 'firstLoadMaxMs', label: 'ms to a usable page, slowest load', pick: (r) => r.result?.firstLoadMaxMs, digits: 0 },
  { scenario: 'i', key: 'firstLoadKiB', label: 'KiB on the wire per load', pick: (r) => r.result?.firstLoadKiB, digits: 0 },
];

/** (h) how far the relay's RSS rose during the transfers. */
function rssGrowthMiB(r: RunRecord): number | undefined {
  return r.rssPeakKiB === undefined || r.rssBeforeKiB === undefined ? undefined : (r.rssPeakKiB - r.rssBeforeKiB) / 1024;
}

export interface Check {
  scenario: ScenarioName;
  store?: SdkStore;
  /** A check about one target only (the cluster's): shown when that target ran. */
  target?: TargetName;
  description: string;
  value: number | undefined;
  limit: number;
  pass: boolean | undefined;
}

/** Median over runs of ours (sealpost, or the cluster) ÷ baseline, each ratio taken within one run. */
export function ratio(records: readonly RunRecord[], spec: MetricSpec, baseline: TargetName, over: TargetName = 'sealpost'): number | undefined {
  const runs = [...new Set(records.map((r) => r.run))];
  return median(
    runs.map((run) => {
      const find = (t: TargetName) => records.find((r) => r.run === run && r.scenario === spec.scenario && r.target === t && !r.error);
      const ours = find(over);
      const theirs = find(baseline);
      const a = ours ? spec.pick(ours) : undefined;
      const b = theirs ? spec.pick(theirs) : undefined;
      return a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
    }),
  );
}

export function medianOf(records: readonly RunRecord[], spec: MetricSpec, target: TargetName): number | undefined {
  return median(records.filter((r) => r.scenario === spec.scenario && r.target === target && !r.error).map(spec.pick));
}

function spec(scenario: ScenarioName, key: string): MetricSpec {
  const found = METRICS.find((m) => m.scenario === scenario && m.key === key);
  if (!found) throw new Error(`no metric ${scenario}.${key}`);
  return found;
}

export function checks(records: readonly RunRecord[]): Check[] {
  const atLeast = (scenario: ScenarioName, description: string, value: number | undefined, limit: number): Check => ({
    scenario, description, value, limit, pass: value === undefined ? undefined : value >= limit,
  });
  const atMost = (scenario: ScenarioName, description: string, value: number | undefined, limit: number): Check => ({
    scenario, description, value, limit, pass: value === undefined ? undefined : value <= limit,
  });
  const below = (scenario: ScenarioName, description: string, value: number | undefined, limit: number): Check => ({
    scenario, description, value, limit, pass: value === undefined ? undefined : value < limit,
  });
  const sealpost = (scenario: ScenarioName, key: string) => medianOf(records, spec(scenario, key), 'sealpost');
  const drained = records.filter((r) => r.scenario === 'c' && r.target === 'sealpost');
  const queueLeft = drained.length === 0 || drained.some((r) => r.queueLeft === undefined) ? undefined : Math.max(...drained.map((r) => r.queueLeft ?? 0));
  return [
    atLeast('a', 'msg/s ≥ 1.0 × bare Socket.IO', ratio(records, spec('a', 'msgPerSec'), 'bare-socketio'), 1.0),
    atMost('a', 'p99 ≤ 1.5 × bare Socket.IO', ratio(records, spec('a', 'p99Ms'), 'bare-socketio'), 1.5),
    atLeast('b', 'msg/s ≥ 1.0 × bare Socket.IO', ratio(records, spec('b', 'msgPerSec'), 'bare-socketio'), 1.0),
    atMost('b', 'p99 ≤ 1.5 × bare Socket.IO', ratio(records, spec('b', 'p99Ms'), 'bare-socketio'), 1.5),
    atLeast('b', 'msg/s ≥ 0.5 × raw ws', ratio(records, spec('b', 'msgPerSec'), 'raw-ws'), 0.5),
    ...CLUSTER_SCENARIOS.map((s): Check => ({
      ...atMost(s, 'cluster: relay CPU/msg (all nodes) ≤ 1.5 × sealpost (1 node)', ratio(records, spec(s, 'serverCpuUsPerMsg'), 'sealpost', 'cluster'), 1.5),
      target: 'cluster',
    })),
    atLeast('c', 'drained ≥ 30,000 msg/s', medianOf(records, spec('c', 'msgPerSec'), 'sealpost'), 30_000),
    atMost('c', 'queue empty afterwards (rows left, worst run)', queueLeft, 0),
    atMost('d', 'RSS/connection ≤ 1.1 × bare Socket.IO', ratio(records, spec('d', 'perConnectionKiB'), 'bare-socketio'), 1.1),
    ...SDK_STORES.flatMap((store) => [
      { ...atLeast('f', `delivered ≥ 500 msg/s (${store} store)`, sealpost('f', `${store}.msgPerSec`), 500), store },
      { ...below('f', `p99 send→received < 1,000 ms (${store} store)`, sealpost('f', `${store}.p99Ms`), 1000), store },
    ]),
    atMost('g', 'forged message ≤ 1,000 µs (CPU, mean)', sealpost('g', 'forgedMessageMeanUs'), 1000),
    atMost('g', 'forged prekey message ≤ 1,000 µs (CPU, mean)', sealpost('g', 'forgedPrekeyMeanUs'), 1000),
    atMost('i', 'usable page ≤ 1,500 ms on slow 4G (median)', sealpost('i', 'firstLoadMs'), 1500),
  ];
}

function fmt(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  return round(value, digits).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
  const [head, ...body] = rows;
  return [line(head ?? []), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

const SCENARIO_NAMES: Record<ScenarioName, string> = {
  a: '(a) 100 pairs, window 1',
  b: '(b) 10 pairs, window 32',
  c: '(c) offline drain',
  d: '(d) idle connections',
  e: '(e) client crypto',
  f: '(f) SDK burst, 1 KiB',
  g: '(g) forged envelope, 4 sessions',
  h: '(h) one large attachment',
  i: '(i) web app first load, slow 4G',
};

export function renderTables(records: readonly RunRecord[], scenarios: readonly ScenarioName[]): string {
  const rows = [['scenario', 'metric', 'sealpost', 'bare Socket.IO', 'raw ws', 'sealpost ÷ bare', 'sealpost ÷ raw']];
  const ran = (store: SdkStore | undefined) => store === undefined || records.some((r) => r.store === store);
  for (const m of METRICS) {
    if (!scenarios.includes(m.scenario) || !ran(m.store)) continue;
    const baselines = ['c', 'e', 'f', 'g', 'h', 'i'].includes(m.scenario);
    rows.push([
      SCENARIO_NAMES[m.scenario],
      m.label,
      fmt(medianOf(records, m, 'sealpost'), m.digits),
      baselines ? '—' : fmt(medianOf(records, m, 'bare-socketio'), m.digits),
      baselines ? '—' : fmt(medianOf(records, m, 'raw-ws'), m.digits),
      baselines ? '—' : fmt(ratio(records, m, 'bare-socketio'), 2),
      baselines ? '—' : fmt(ratio(records, m, 'raw-ws'), 2),
    ]);
  }
  const checkRows = [['scenario', 'target', 'measured', 'result']];
  for (const c of checks(records)) {
    if (!scenarios.includes(c.scenario) || !ran(c.store) || (c.target !== undefined && !records.some((r) => r.target === c.target))) continue;
    checkRows.push([SCENARIO_NAMES[c.scenario], c.description, fmt(c.value, c.value !== undefined && c.value < 10 ? 2 : 0), c.pass === undefined ? 'n/a' : c.pass ? 'PASS' : 'FAIL']);
  }
  const errors = records.filter((r) => r.error).map((r) => `run ${r.run} ${r.scenario}${r.store ? `/${r.store}` : ''} ${r.target}: ${r.error}`);
  const cluster = renderCluster(records, scenarios);
  return [table(rows), ...(cluster ? ['', cluster] : []), '', table(checkRows), ...(errors.length ? ['', 'errors:', ...errors] : [])].join('\n');
}

/** One row of the cluster table: a figure of single-node sealpost and of the cluster (undefined: does not apply). */
interface ClusterRow {
  key: string;
  label: string;
  pick: (r: RunRecord) => number | undefined;
  digits: number;
  /** Also shown for single-node sealpost. */
  both: boolean;
}

/** The cluster's probes (`node 1`…, `postgres`, `redis`) in the order the records name them. */
function clusterProbes(records: readonly RunRecord[]): string[] {
  const names = new Set<string>();
  for (const r of records) if (r.target === 'cluster') for (const name of Object.keys(r.cpuSeconds ?? {})) if (name !== 'relay') names.add(name);
  return [...names];
}

function clusterRows(records: readonly RunRecord[]): ClusterRow[] {
  const label = (probe: string) => (probe === 'postgres' ? 'PostgreSQL' : probe === 'redis' ? 'Redis' : probe);
  const probes = clusterProbes(records);
  return [
    { key: 'msgPerSec', label: 'msg/s', pick: (r) => r.result?.msgPerSec, digits: 0, both: true },
    { key: 'p50Ms', label: 'p50 ms (complete)', pick: (r) => r.result?.p50Ms, digits: 2, both: true },
    { key: 'p99Ms', label: 'p99 ms (complete)', pick: (r) => r.result?.p99Ms, digits: 2, both: true },
    { key: 'relayAckP99Ms', label: 'p99 ms (sender ack)', pick: (r) => r.result?.relayAckP99Ms, digits: 2, both: true },
    { key: 'cpu.relay', label: 'relay CPU µs/msg (all nodes)', pick: (r) => cpuPerMessageUs(r, 'relay'), digits: 0, both: true },
    ...probes.map((p): ClusterRow => ({ key: `cpu.${p}`, label: `${label(p)} CPU µs/msg`, pick: (r) => cpuPerMessageUs(r, p), digits: 0, both: false })),
    { key: 'serverCpuPct', label: 'relay CPU % (all nodes)', pick: (r) => r.serverCpuPct, digits: 0, both: true },
    ...probes
      .filter((p) => !p.startsWith('node'))
      .map((p): ClusterRow => ({
        key: `pct.${p}`,
        label: `${label(p)} CPU %`,
        pick: (r) => (r.cpuSeconds?.[p] === undefined || !r.result?.seconds ? undefined : ((r.cpuSeconds[p] ?? 0) / r.result.seconds) * 100),
        digits: 0,
        both: false,
      })),
    ...(records.some((r) => r.postgres !== undefined)
      ? [
          { key: 'pg.walBytes', label: 'PostgreSQL WAL bytes/msg', pick: perMessage('walBytes'), digits: 0, both: false },
          { key: 'pg.walFlushes', label: 'PostgreSQL WAL flushes/msg (≈)', pick: perMessage('walFlushes'), digits: 2, both: false },
          { key: 'pg.commits', label: 'PostgreSQL commits/msg (≈)', pick: perMessage('commits'), digits: 2, both: false },
          { key: 'pg.rows', label: 'PostgreSQL rows written/msg (≈)', pick: perMessage('rowsInserted', 'rowsUpdated', 'rowsDeleted'), digits: 2, both: false },
        ]
      : []),
    { key: 'loadCpuPct', label: 'load CPU %', pick: (r) => r.result?.loadCpuPct, digits: 0, both: true },
  ];
}

/** Sum of PostgreSQL counters over the interval per message completed in it. */
function perMessage(...keys: string[]): (r: RunRecord) => number | undefined {
  return (r) => {
    const completed = r.result?.completed;
    if (r.postgres === undefined || !completed) return undefined;
    return keys.reduce((sum, k) => sum + (r.postgres?.[k] ?? 0), 0) / completed;
  };
}

function clusterMedian(records: readonly RunRecord[], scenario: ScenarioName, target: TargetName, pick: (r: RunRecord) => number | undefined): number | undefined {
  return median(records.filter((r) => r.scenario === scenario && r.target === target && !r.error).map(pick));
}

/** Medians of the cluster table for the JSON: per scenario, per target, per row key. */
export function clusterSummary(records: readonly RunRecord[]): Record<string, Record<string, Record<string, number | undefined>>> | undefined {
  if (!records.some((r) => r.target === 'cluster')) return undefined;
  const rows = clusterRows(records);
  const out: Record<string, Record<string, Record<string, number | undefined>>> = {};
  for (const scenario of CLUSTER_SCENARIOS) {
    if (!records.some((r) => r.scenario === scenario && r.target === 'cluster')) continue;
    out[scenario] = {};
    for (const target of ['sealpost', 'cluster'] as const) {
      const figures: Record<string, number | undefined> = {};
      for (const row of rows) if (row.both || target === 'cluster') figures[row.key] = clusterMedian(records, scenario, target, row.pick);
      out[scenario][target] = figures;
    }
  }
  return out;
}

/** (a) and (b) on the cluster beside single-node sealpost of the same run; undefined when the cluster did not run. */
function renderCluster(records: readonly RunRecord[], scenarios: readonly ScenarioName[]): string | undefined {
  if (!records.some((r) => r.target === 'cluster')) return undefined;
  const nodes = clusterProbes(records).filter((p) => p.startsWith('node')).length;
  const rows = [['scenario', 'metric', 'sealpost (1 node, SQLite)', `cluster (${nodes} nodes, PostgreSQL + Redis)`, 'cluster ÷ sealpost']];
  for (const scenario of CLUSTER_SCENARIOS) {
    if (!scenarios.includes(scenario) || !records.some((r) => r.scenario === scenario && r.target === 'cluster')) continue;
    for (const row of clusterRows(records)) {
      const m: MetricSpec = { scenario, key: row.key, label: row.label, pick: row.pick, digits: row.digits };
      rows.push([
        SCENARIO_NAMES[scenario],
        row.label,
        row.both ? fmt(clusterMedian(records, scenario, 'sealpost', row.pick), row.digits) : '—',
        fmt(clusterMedian(records, scenario, 'cluster', row.pick), row.digits),
        row.both ? fmt(ratio(records, m, 'sealpost', 'cluster'), 2) : '—',
      ]);
    }
  }
  return table(rows);
}
