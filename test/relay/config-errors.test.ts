/** The error table agrees with the wire codes; the config parser fills, validates and freezes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS, commandHelp } from '../../bin/sealpost.js';
import { ConfigError, FLAGS, loadConfig, redactUrl } from '../../server/config.js';
import { ERRORS, ERROR_CODES, RelayError, errorAck, errorBody } from '../../server/errors.js';
import type { ErrorCode } from '../../protocol/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('error table', () => {
  it('covers every wire code exactly once with a 4xx/5xx status and a message', () => {
    // Compile-time exhaustiveness: adding an ErrorCode without a row fails typecheck.
    const all: Record<ErrorCode, true> = { invalid: true, too_large: true, rate_limited: true, quota_exceeded: true, unknown_device: true, not_found: true, unauthorized: true, stale_timestamp: true, replayed_nonce: true, bad_signature: true, forbidden: true, conflict: true, unavailable: true, unsupported_version: true, stale_devices: true, internal: true };
    expect(ERROR_CODES.sort()).toEqual(Object.keys(all).sort());
    for (const code of ERROR_CODES) {
      const { status, message } = ERRORS[code];
      expect(status >= 400 && status < 600, code).toBe(true);
      expect(message.length, code).toBeGreaterThan(3);
      // Only genuine failures of the relay itself are 5xx.
      expect(status >= 500, code).toBe(code === 'internal' || code === 'unavailable');
    }
    expect(ERRORS.conflict.status).toBe(409);
    expect(ERRORS.invalid.status).toBe(400);
    expect(ERRORS.unsupported_version.status).toBe(410);
  });

  it('builds bodies, acks and errors from the table', () => {
    expect(errorBody('conflict')).toEqual({ error: { code: 'conflict', message: ERRORS.conflict.message } });
    expect(errorAck('invalid', 'x')).toEqual({ ok: false, error: { code: 'invalid', message: 'x' } });
    expect(new RelayError('rate_limited').statusCode).toBe(429);
  });
});

describe('config', () => {
  it('has the DESIGN.md defaults', () => {
    const c = loadConfig([], {}, { db: join(dir, 'a/b/relay.db') });
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', maxBodyBytes: 65536, maxBatch: 100, maxQueueEnvelopes: 10_000, maxQueueBytes: 100 * 1024 * 1024, ttlMs: 30 * 86_400_000, handshakeSkewMs: 60_000, sendRatePerSecond: 50, maxDevicesPerAccount: 6, bundleClaimsPerDevice: 120, bundleClaimsPerTarget: 30, corsOrigins: [], dbSynchronous: 'FULL', parser: 'msgpack', staticDir: resolve('dist/web') });
    expect(Object.isFrozen(c)).toBe(true);
    expect(loadConfig().db).toBe('./data/sealpost.db');
  });

  it('reads env, lets flags win, repeats and splits lists', () => {
    const c = loadConfig(['--port', '9000', '--cors-origin', 'https://a.example', '--cors-origin=https://b.example,https://c.example', '--trust-proxy', '127.0.0.1', '--trust-proxy=10.0.0.0/8, ::1', '--db', join(dir, 'x.db')], { SEALPOST_PORT: '7000', SEALPOST_MAX_BATCH: '7', SEALPOST_LOG_LEVEL: 'warn' });
    expect(c.port).toBe(9000);
    expect(c.maxBatch).toBe(7);
    expect(c.logLevel).toBe('warn');
    expect(c.trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8', '::1']);
    expect(loadConfig([], { SEALPOST_TRUST_PROXY: 'false' }, { db: join(dir, 'x.db') }).trustProxy).toEqual([]);
    expect(loadConfig(['--public-origin', 'https://Relay.Example.org:443/'], {}, { db: join(dir, 'x.db') }).publicOrigin).toBe('https://relay.example.org');
    expect(loadConfig([], { SEALPOST_PUBLIC_ORIGIN: 'http://127.0.0.1:8080' }, { db: join(dir, 'x.db') }).publicOrigin).toBe('http://127.0.0.1:8080');
    expect(c.corsOrigins).toEqual(['https://a.example', 'https://b.example', 'https://c.example']);
    const claims = loadConfig(['--bundle-claims-per-target', '5', '--db', join(dir, 'x.db')], { SEALPOST_BUNDLE_CLAIMS_PER_DEVICE: '9' });
    expect([claims.bundleClaimsPerDevice, claims.bundleClaimsPerTarget]).toEqual([9, 5]);
  });

  it('refuses bad input with a ConfigError', () => {
    const bad: [string[], Record<string, string>][] = [
      [['--port', 'http'], {}],
      [['--port', '70000'], {}],
      [['--nope'], {}],
      [['--cors-origin', '*'], {}],
      [['--tls-cert', 'c.pem'], {}],
      [['--max-batch', '0'], {}],
      [['--bundle-claims-per-device', '0'], {}],
      [['--log-level', 'loud'], {}],
      [['--parser', 'default'], {}],
      [[], { SEALPOST_MAX_BODY_BYTES: '-1' }],
      [['stray'], {}],
      [['--public-origin', 'relay.example.org'], {}],
      [['--public-origin', 'ftp://relay.example.org'], {}],
      [['--public-origin', 'https://relay.example.org/app'], {}],
      [['--trust-proxy', '10.0.0.0/33'], {}],
      [['--trust-proxy', 'proxy.internal'], {}],
      [[], { SEALPOST_TRUST_PROXY: '1' }],
    ];
    for (const [argv, env] of bad) expect(() => loadConfig(argv, env, { db: join(dir, 'y.db') }), argv.join(' ')).toThrow(ConfigError);
  });

  it('refuses --trust-proxy true (bare or spelled out) and says to list the proxy addresses', () => {
    for (const [argv, env] of [[['--trust-proxy'], {}], [['--trust-proxy', '--port', '1'], {}], [['--trust-proxy=true'], {}], [[], { SEALPOST_TRUST_PROXY: 'true' }]] as [string[], Record<string, string>][]) {
      expect(() => loadConfig(argv, env, { db: join(dir, 'y.db') }), argv.join(' ')).toThrow(/List the addresses of your reverse proxies/);
    }
  });

  it('says which flag was refused, in words', () => {
    const refusal = (argv: string[], env: Record<string, string> = {}) => {
      try {
        loadConfig(argv, env, { db: join(dir, 'y.db') });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error(`${argv.join(' ')} was accepted`);
    };
    expect(refusal(['--nope'])).toBe('unknown flag --nope');
    expect(refusal(['--no-port'])).toBe('unknown flag --no-port');
    expect(refusal(['stray'])).toContain('unexpected argument "stray"');
    expect(refusal(['--port'])).toBe('--port needs a value');
    expect(refusal(['--host', '--port', '1'])).toBe('--host needs a value');
    expect(refusal(['--long-polling=yes'])).toContain('--long-polling takes no value');
    expect(refusal(['--port', 'http'])).toBe('--port: expected a non-negative integer, got "http"');
    expect(refusal(['--port', '70000'])).toBe('--port: must be ≤ 65535');
    expect(refusal([], { SEALPOST_MAX_BATCH: '0' })).toBe('SEALPOST_MAX_BATCH: must be ≥ 1');
    expect(refusal(['--parser', 'default'])).toBe('--parser: expected msgpack or json, got "default"');
  });

  it('turns switches on and off, a flag winning over its variable', () => {
    const db = { db: join(dir, 'x.db') };
    expect(loadConfig(['--long-polling'], {}, db).longPolling).toBe(true);
    expect(loadConfig([], { SEALPOST_LONG_POLLING: 'yes' }, db).longPolling).toBe(true);
    expect(loadConfig(['--no-long-polling'], { SEALPOST_LONG_POLLING: 'true' }, db).longPolling).toBe(false);
    // A flag replaces its variable's list, it does not add to it.
    expect(loadConfig(['--cors-origin', 'https://a.example'], { SEALPOST_CORS_ORIGIN: 'https://b.example' }, db).corsOrigins).toEqual(['https://a.example']);
  });

  it('documents every flag with its env var and default in `sealpost serve --help`', async () => {
    const serve = COMMANDS.find((c) => c.name === 'serve')!;
    const help = commandHelp(serve, await serve.load());
    for (const f of FLAGS) {
      expect(help).toContain(`--${f.flag}`);
      expect(help).toContain(`env ${f.env}`);
    }
    expect(help).toMatch(/--postgres URL +cluster mode: .*PostgreSQL/);
    expect(help).toMatch(/--redis URL +cluster mode: .*notice bus/);
  });
});

describe('cluster options', () => {
  const PG = 'postgres://relay:hunter2@db.internal:5432/sealpost';
  const REDIS = 'rediss://:sesame@bus.internal:6380';
  const refusal = (argv: string[], env: Record<string, string> = {}) => {
    try {
      loadConfig(argv, env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      // The URLs may hold passwords: no error repeats them.
      expect(message).not.toMatch(/hunter2|sesame/);
      return message;
    }
    throw new Error(`${argv.join(' ')} ${JSON.stringify(env)} was accepted`);
  };

  it('are off by default and read from flags or SEALPOST_POSTGRES / SEALPOST_REDIS, flags winning', () => {
    expect(loadConfig([], {}, { db: ':memory:' })).toMatchObject({ postgres: undefined, redis: undefined });
    expect(loadConfig(['--postgres', PG, '--redis', REDIS])).toMatchObject({ postgres: PG, redis: REDIS });
    expect(loadConfig([], { SEALPOST_POSTGRES: 'postgresql:///sealpost?host=/run/postgresql', SEALPOST_REDIS: 'redis://127.0.0.1:6379' })).toMatchObject({ postgres: 'postgresql:///sealpost?host=/run/postgresql', redis: 'redis://127.0.0.1:6379' });
    expect(loadConfig(['--postgres', PG], { SEALPOST_POSTGRES: 'postgres://other/db' }).postgres).toBe(PG);
    expect(loadConfig(['--postgres=' + PG, '--redis=' + REDIS]).redis).toBe(REDIS);
  });

  it('refuse a URL of another scheme, or no URL, naming the flag or variable and never the password', () => {
    expect(refusal(['--postgres', 'mysql://relay:hunter2@db.internal/sealpost'])).toBe('--postgres: expected a postgres:// or postgresql:// URL, got one beginning "mysql://"');
    expect(refusal([], { SEALPOST_POSTGRES: 'relay:hunter2@db.internal/sealpost' })).toMatch(/^SEALPOST_POSTGRES: expected a postgres:\/\/ or postgresql:\/\/ URL \(the value is not shown/);
    expect(refusal(['--postgres', PG, '--redis', 'http://:sesame@bus.internal'])).toBe('--redis: expected a redis:// or rediss:// URL, got one beginning "http://"');
    expect(refusal([], { SEALPOST_POSTGRES: PG, SEALPOST_REDIS: 'sesame' })).toMatch(/^SEALPOST_REDIS: expected a redis:\/\/ or rediss:\/\/ URL/);
    expect(refusal(['--postgres'])).toBe('--postgres needs a value');
  });

  it('are logged with their passwords replaced', () => {
    expect(redactUrl(PG)).toBe('postgres://relay:***@db.internal:5432/sealpost');
    expect(redactUrl(REDIS)).toBe('rediss://:***@bus.internal:6380');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('refuse --redis without --postgres, and --postgres with --db', () => {
    expect(refusal(['--redis', REDIS])).toBe('--redis needs --postgres: the cluster keeps its data in PostgreSQL');
    expect(refusal([], { SEALPOST_REDIS: REDIS })).toBe('--redis needs --postgres: the cluster keeps its data in PostgreSQL');
    expect(refusal(['--postgres', PG, '--db', join(dir, 'z.db')])).toMatch(/^--postgres cannot be used with --db: .*PostgreSQL/);
    expect(refusal(['--db', join(dir, 'z.db')], { SEALPOST_POSTGRES: PG })).toMatch(/^SEALPOST_POSTGRES cannot be used with --db/);
    expect(refusal(['--postgres', PG], { SEALPOST_DB: join(dir, 'z.db') })).toMatch(/^--postgres cannot be used with SEALPOST_DB/);
  });
});
