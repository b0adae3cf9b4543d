/**
 * startRelay(): a real relay (buildApp + listen) on 127.0.0.1, port 0, with a temporary SQLite
 * file and captured log lines. Reusable by every suite:
 *
 *   const relay = await startRelay({ maxBatch: 10 });   // any Config field may be overridden
 *   relay.url        // http://127.0.0.1:PORT
 *   relay.logs       // JSON log lines so far (also appended to relay.logPath)
 *   await relay.restart();  // close and start again on the same db file (new port)
 *   await relay.close();    // closes and removes the temp directory
 *
 * Pass `{ db: existing }` to open a given file; the temp dir is then not removed on close.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import { loadConfig, type Config } from '../../server/config.js';
import { listen } from '../../server/listen.js';
import type { Store } from '../../server/store/store.js';

export interface RelayHandle {
  url: string;
  /** host:port as clients address it (the relayHost of signatures). */
  host: string;
  config: Config;
  dbPath: string;
  dir: string;
  logs: string[];
  logPath: string;
  app: FastifyInstance;
  /** Closes this instance and starts a new one on the same database file and log. */
  restart(overrides?: Partial<Config>): Promise<RelayHandle>;
  /** Closes; removes the temp dir unless keepData. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

/** Limits loose enough that suites do not trip per-IP, per-pair, inbound or relay-wide limits by accident. */
const TEST_DEFAULTS: Partial<Config> = {
  host: '127.0.0.1',
  port: 0,
  logLevel: 'info',
  ipRateLimitPerMinute: 100_000,
  maxConnectionsPerIp: 10_000,
  maxUnauthenticatedPerIp: 10_000,
  signedRequestsPerDevice: 100_000,
  lookupsPerDevice: 100_000,
  lookupsPerIp: 100_000,
  pairRatePerSecond: 100_000,
  pairBurst: 100_000,
  inboundBytesPerSecond: 2 ** 40,
  inboundBurstBytes: 2 ** 40,
  inboundBytesPerDevice: 2 ** 40,
  maxTotalQueueBytes: 2 ** 44,
  staticDir: join(tmpdir(), 'sealpost-no-client'),
};

export async function startRelay(
  overrides: Partial<Config> = {},
  shared?: { dir: string; logs: string[]; ownsDir: boolean },
  /** A store opened by the test (e.g. a SqliteStore whose WAL sync the test controls). */
  store?: Store,
): Promise<RelayHandle> {
  const ownsDir = shared?.ownsDir ?? overrides.db === undefined;
  const dir = shared?.dir ?? mkdtempSync(join(tmpdir(), 'sealpost-relay-'));
  const logs = shared?.logs ?? [];
  const logPath = join(dir, 'relay.log');
  const config = loadConfig([], {}, { ...TEST_DEFAULTS, db: join(dir, 'sealpost.db'), ...overrides, host: '127.0.0.1' });
  const logStream = {
    write(line: string): void {
      logs.push(line);
      appendFileSync(logPath, line);
    },
  };
  const app = await buildApp(config, { logStream, ...(store ? { store } : {}) });
  const url = await listen(app, config);
  let closed = false;
  const close = async (options: { keepData?: boolean } = {}): Promise<void> => {
    if (!closed) {
      closed = true;
      await app.close();
    }
    if (ownsDir && !options.keepData) rmSync(dir, { recursive: true, force: true });
  };
  return {
    url,
    host: new URL(url).host,
    config,
    dbPath: config.db,
    dir,
    logs,
    logPath,
    app,
    close,
    restart: async (more: Partial<Config> = {}) => {
      await close({ keepData: true });
      return startRelay({ ...overrides, db: config.db, ...more }, { dir, logs, ownsDir });
    },
  };
}
