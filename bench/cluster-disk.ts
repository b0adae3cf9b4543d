/**
 * Disk and WAL per queued envelope in the cluster's PostgreSQL, for docs/cluster.md's capacity
 * model: one node of the cluster target (targets/launch.ts: fresh PostgreSQL, Redis), `N`
 * envelopes of 1 KiB sent in batches of 100 to 100 devices that stay offline, then the queue
 * table's size (heap, TOAST, indexes) and the WAL written, each divided by N; and the relay's
 * and PostgreSQL's CPU per envelope while filling (the batched shape: (c)'s fill).
 *
 *   node dist/bench/cluster-disk.js            # N = 20,000 (BENCH_DISK_ENVELOPES)
 *
 * Bounded: N ≤ 200,000, and the whole run is killed after 5 minutes.
 */
import pg from 'pg';
import { ready } from '../crypto/sodium.js';
import type { OutgoingEnvelope } from '../protocol/events.js';
import { bodyPool, envelopeId } from './load/bodies.js';
import { BenchError, mapLimit } from './load/driver.js';
import { socketIoDriver } from './load/socketio-driver.js';
import { startTarget } from './targets/launch.js';

const BATCH = 100;
const RECIPIENTS = 100;
const IN_FLIGHT = 8;

const SIZES = `SELECT count(*)::float8 AS rows,
    pg_relation_size('queue')::float8 AS heap,
    COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0)::float8 AS toast,
    pg_indexes_size('queue')::float8 AS indexes,
    pg_total_relation_size('queue')::float8 AS total,
    pg_database_size(current_database())::float8 AS database
  FROM queue, pg_class c WHERE c.oid = 'queue'::regclass GROUP BY c.reltoastrelid`;

async function main(): Promise<void> {
  const envelopes = Math.min(200_000, Math.max(BATCH, Math.round(Number(process.env['BENCH_DISK_ENVELOPES'] ?? 20_000))));
  setTimeout(() => {
    process.stderr.write('cluster-disk: overran 5 minutes\n');
    process.exit(2);
  }, 5 * 60_000).unref();
  await ready();
  const target = await startTarget('cluster', 'msgpack', 1);
  const db = new pg.Client({ connectionString: target.postgresUrl });
  try {
    await db.connect();
    const driver = socketIoDriver({ urls: target.urls, parser: 'msgpack', authenticated: true });
    const devices = await driver.createDevices(RECIPIENTS + 1);
    const sender = await driver.connect(devices[RECIPIENTS] as (typeof devices)[number]);
    const bodies = bodyPool(1024);
    const batches: OutgoingEnvelope[][] = [];
    for (let n = 0; n < envelopes; n += BATCH) {
      const to = (devices[(n / BATCH) % RECIPIENTS] as (typeof devices)[number]).id;
      batches.push(Array.from({ length: Math.min(BATCH, envelopes - n) }, (_, i) => ({ to, id: envelopeId(), body: bodies[(n + i) % bodies.length] as Uint8Array })));
    }
    const before = await target.counters?.();
    const cpuBefore = target.probes.map((p) => p.cpuSeconds());
    const started = performance.now();
    let next = 0;
    await mapLimit(Array.from({ length: IN_FLIGHT }), IN_FLIGHT, async () => {
      while (next < batches.length) {
        const ack = await sender.send(batches[next++] as OutgoingEnvelope[]);
        if (!ack.ok || ack.failed.length > 0) throw new BenchError(`fill refused: ${JSON.stringify(ack)}`);
      }
    });
    const seconds = (performance.now() - started) / 1000;
    const cpu = Object.fromEntries(target.probes.map((p, i) => [p.name, ((p.cpuSeconds() - (cpuBefore[i] ?? 0)) / envelopes) * 1e6]));
    const after = await target.counters?.();
    sender.close();
    await db.query('CHECKPOINT');
    const sizes = (await db.query<Record<string, number>>(SIZES)).rows[0] ?? {};
    const per = (bytes: number | undefined) => Math.round((bytes ?? 0) / envelopes);
    const result = {
      envelopes,
      bodyBytes: 1024,
      queuedRows: sizes['rows'],
      fillSeconds: Number(seconds.toFixed(2)),
      fillPerSecond: Math.round(envelopes / seconds),
      bytesPerEnvelope: { heap: per(sizes['heap']), toast: per(sizes['toast']), indexes: per(sizes['indexes']), total: per(sizes['total']) },
      walBytesPerEnvelope: before && after ? per((after['walBytes'] ?? 0) - (before['walBytes'] ?? 0)) : undefined,
      cpuMicrosPerEnvelope: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, Math.round(v)])),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await db.end().catch(() => undefined);
    await target.stop();
    target.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`cluster-disk failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
