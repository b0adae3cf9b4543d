/**
 * A seconds-long smoke run of `npm run bench` (BENCH_QUICK with tiny counts: (f) sends 100
 * messages, (g) times 200 forgeries of each kind) against every target, checking only that it
 * runs end to end and reports well-formed, non-zero figures.
 * The bench is compiled into its own folder under node_modules/.cache so this test never
 * rewrites dist/ under another suite's feet (dependencies still resolve from node_modules).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterServicesMissing } from '../../bench/cluster-services.js';
import type { RunRecord } from '../../bench/report.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..');
const outDir = join(root, 'node_modules', '.cache', `sealpost-bench-smoke-${process.pid}`);
const results = join(outDir, 'results.json');

interface Results {
  records: RunRecord[];
  checks: unknown[];
  table: string;
}

describe('npm run bench (quick smoke run)', () => {
  let parsed: Results;
  let stdout = '';

  beforeAll(async () => {
    mkdirSync(outDir, { recursive: true });
    const tsconfig = join(outDir, 'tsconfig.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: join(root, 'tsconfig.build.json'),
        compilerOptions: { outDir, rootDir: root, sourceMap: false },
        include: [join(root, 'bench'), join(root, 'bin'), join(root, 'server')],
        exclude: [join(root, 'node_modules'), join(root, 'dist'), '**/*.test.ts'],
      }),
    );
    // Emit even if another part of the tree has a type error right now: the typecheck is npm test's job.
    await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { cwd: root }).catch(() => undefined);
    expect(existsSync(join(outDir, 'bench', 'run.js'))).toBe(true);
    // (i), the web app's first load in Chromium, is left out (no built app in BENCH_WEB_DIR): it
    // needs a browser for tens of seconds, and test/e2e drives the same app in Chromium.
    const env = { ...process.env, BENCH_QUICK: '1', BENCH_SECONDS: '0.5', BENCH_IDLE: '50', BENCH_DRAIN: '500', BENCH_OUT: results, BENCH_WEB_DIR: join(outDir, 'no-web-app') };
    ({ stdout } = await run(process.execPath, [join(outDir, 'bench', 'run.js')], { cwd: root, env, timeout: 150_000 }));
    parsed = JSON.parse(readFileSync(results, 'utf8')) as Results;
  }, 240_000);

  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('prints the table with the targets of the issue', () => {
    expect(stdout).toContain('sealpost ÷ bare');
    expect(stdout).toMatch(/PASS|FAIL/);
    expect(parsed.checks.length).toBeGreaterThan(0);
    expect(stdout).toContain('note: (i) skipped:');
  });

  it('runs every scenario against every target without errors', () => {
    const seen = parsed.records.map((r) => `${r.scenario}${r.store ? `/${r.store}` : ''}:${r.target}`).sort();
    const sealpost = existsSync(join(outDir, 'bin', 'sealpost.js'));
    const expected = ['a', 'b', 'd'].flatMap((s) => [...(sealpost ? ['sealpost'] : []), 'bare-socketio', 'raw-ws'].map((t) => `${s}:${t}`));
    if (sealpost) expected.push('c:sealpost', 'f/file:sealpost', 'f/memory:sealpost');
    // The cluster target (three nodes on PostgreSQL and Redis) runs shapes (a) and (b) only.
    if (sealpost && clusterServicesMissing() === undefined) expected.push('a:cluster', 'b:cluster');
    expected.push('e:sealpost', 'g:sealpost');
    // (h): a 100 MiB attachment (8 MiB in quick mode) through the relay, SDK and curl.
    if (sealpost) expected.push('h:sealpost');
    expect(seen).toEqual(expected.sort());
    expect(parsed.records.filter((r) => r.error).map((r) => `${r.scenario} ${r.target}: ${r.error}`)).toEqual([]);
  });

  it('reports non-zero throughput and finite latencies', () => {
    for (const r of parsed.records.filter((x) => x.scenario === 'a' || x.scenario === 'b')) {
      expect(r.result?.msgPerSec, `${r.scenario} ${r.target}`).toBeGreaterThan(0);
      expect(r.result?.p50Ms).toBeGreaterThan(0);
      expect(r.result?.p99Ms).toBeGreaterThanOrEqual(r.result?.p50Ms ?? Infinity);
      expect(r.serverCpuPct).toBeGreaterThan(0);
    }
  });

  it('sets the cluster beside single-node sealpost with CPU per message of every node, PostgreSQL and Redis', () => {
    const cluster = parsed.records.filter((r) => r.target === 'cluster');
    if (!existsSync(join(outDir, 'bin', 'sealpost.js')) || clusterServicesMissing() !== undefined) return;
    expect(stdout).toContain('cluster ÷ sealpost');
    expect(cluster.map((r) => r.scenario).sort()).toEqual(['a', 'b']);
    for (const r of cluster) {
      const cpu = r.cpuSeconds ?? {};
      expect(Object.keys(cpu).sort(), r.scenario).toEqual(['node 1', 'node 2', 'node 3', 'postgres', 'redis', 'relay']);
      // Redis may use less than one clock tick (10 ms) in half a second: only its presence is checked.
      expect(cpu['relay']).toBeGreaterThan(0);
      expect(cpu['postgres']).toBeGreaterThan(0);
    }
  });

  it('drains the sealpost queue to empty and measures idle connections and crypto', () => {
    for (const r of parsed.records.filter((x) => x.scenario === 'c')) {
      expect(r.result?.msgPerSec).toBeGreaterThan(0);
      expect(r.queueLeft).toBe(0);
    }
    for (const r of parsed.records.filter((x) => x.scenario === 'd')) {
      expect(r.result?.connections).toBe(50);
      expect(r.rssAfterKiB).toBeGreaterThan(0);
      expect(Number.isFinite(r.perConnectionKiB)).toBe(true);
    }
    const crypto = parsed.records.find((x) => x.scenario === 'e');
    expect(crypto?.result?.msgPerSec).toBeGreaterThan(0);
    expect(crypto?.result?.oneWayPerSec).toBeGreaterThan(0);
  });

  it('delivers the SDK burst to both devices and times forged envelopes', () => {
    for (const r of parsed.records.filter((x) => x.scenario === 'f')) {
      expect(r.result?.completed, r.store).toBe(100);
      expect(r.result?.msgPerSec).toBeGreaterThan(0);
      expect(r.result?.ackedMsgPerSec).toBeGreaterThan(0);
      expect(r.result?.secondDeviceMsgPerSec).toBeGreaterThan(0);
      expect(r.result?.p50Ms).toBeGreaterThan(0);
      expect(r.result?.p99Ms).toBeGreaterThanOrEqual(r.result?.p50Ms ?? Infinity);
    }
    const forgery = parsed.records.find((x) => x.scenario === 'g')?.result;
    for (const value of [forgery?.forgedMessageMeanUs, forgery?.forgedPrekeyMeanUs, forgery?.genuineMeanUs]) expect(value).toBeGreaterThan(0);
    expect(forgery?.forgedPrekeyP99Us).toBeGreaterThanOrEqual(forgery?.forgedPrekeyMeanUs ?? Infinity);
    expect(stdout).toContain('(f) SDK burst');
    expect(stdout).toContain('(g) forged envelope');
  });
});
