/**
 * Bench-only: the sealpost relay with its queue log switched off (SqliteStore `queueLog: false`),
 * so envelopes go straight into SQLite's queue table. It takes `sealpost serve`'s arguments and
 * builds the same app with that store; the runner starts it in place of the relay through its
 * override (targets/launch.ts), to measure whether the log earns its place:
 *
 *   BENCH_SEALPOST_CLI=dist/bench/targets/sealpost-without-queue-log.js BENCH_SCENARIOS=a node dist/bench/run.js
 */
import { buildApp } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { listen } from '../../server/listen.js';
import { SqliteStore } from '../../server/store/sqlite/sqlite-store.js';

// argv: node, this file, 'serve', then the relay's flags.
const config = loadConfig(process.argv.slice(3), process.env);
const store = new SqliteStore(config.db, { synchronous: config.dbSynchronous, minFreeBytes: config.minFreeDiskBytes, queueLog: false });
const app = await buildApp(config, { store });
await listen(app, config);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0), () => process.exit(1)));
