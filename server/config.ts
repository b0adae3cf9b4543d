/**
 * The relay's one typed configuration: parsed once from CLI flags and SEALPOST_* environment
 * variables (flags win), validated, defaults filled in, then frozen. Every limit of DESIGN.md
 * "Defaults" is here, so tests and operators tune the same knobs.
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { proxyEntryError } from './http/client-ip.js';

/** The package root, whether this file runs from source (server/) or from the build (dist/server/). */
function packageRoot(): string {
  const parent = fileURLToPath(new URL('..', import.meta.url));
  return basename(parent) === 'dist' ? dirname(parent) : parent;
}

/** The web client's build, found from the package rather than the working directory. */
export const DEFAULT_STATIC_DIR = join(packageRoot(), 'dist', 'web');

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type SyncMode = 'FULL' | 'NORMAL';
/** Socket.IO wire parser; clients must use the same one (msgpack: socket.io-msgpack-parser, json: Socket.IO's stock parser). */
export type WireParser = 'msgpack' | 'json';

export interface Config {
  readonly port: number;
  readonly host: string;
  /** SQLite file path, or ':memory:' (tests only; not durable). */
  readonly db: string;
  readonly dbSynchronous: SyncMode;
  readonly parser: WireParser;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** Allowed cross-origin origins; empty = same-origin only. */
  readonly corsOrigins: readonly string[];
  readonly staticDir: string;
  readonly logLevel: LogLevel;
  /** Addresses (IPs or CIDRs) of the reverse proxies whose X-Forwarded-For is believed; empty = none. */
  readonly trustProxy: readonly string[];
  /** The origin clients address (e.g. https://relay.example.org); signatures bind its host. Unset = the Host header (dev). */
  readonly publicOrigin: string | undefined;
  readonly maxBodyBytes: number;
  readonly maxBatch: number;
  readonly maxQueueEnvelopes: number;
  readonly maxQueueBytes: number;
  /** Undelivered body bytes across every device together (the relay's disk quota for queues). */
  readonly maxTotalQueueBytes: number;
  /** Durable envelopes per second from one sending device to one recipient device (token bucket refill, in memory). */
  readonly pairRatePerSecond: number;
  /** Durable envelopes one sending device may burst to one recipient device. */
  readonly pairBurst: number;
  /** Body bytes of durable envelopes one recipient device may receive per inbound window, from all senders together. */
  readonly inboundBytesPerDevice: number;
  readonly inboundWindowMs: number;
  readonly ttlMs: number;
  readonly sweepIntervalMs: number;
  readonly handshakeSkewMs: number;
  readonly sendRatePerSecond: number;
  readonly sendBurst: number;
  readonly maxDevicesPerAccount: number;
  readonly drainPageSize: number;
  readonly prekeyLowThreshold: number;
  /** Per-IP limit (per minute) on account creation, device lists, bundle claims and provisioning. */
  readonly ipRateLimitPerMinute: number;
  /** Prekey-bundle claims per minute by one requesting device (token bucket, in memory). */
  readonly bundleClaimsPerDevice: number;
  /** Prekey-bundle claims per minute of one target device's bundle, by all requesters together. */
  readonly bundleClaimsPerTarget: number;
  /** Signed requests per minute by one signing key (token bucket, in memory), on top of the per-IP limits. */
  readonly signedRequestsPerDevice: number;
  /** Nonces one signing key may spend within the freshness window (its own replay table). */
  readonly noncesPerDevice: number;
  /** Account lookups per minute by one requesting device (token bucket, in memory). */
  readonly lookupsPerDevice: number;
  /** Account lookups per minute from one client IP. */
  readonly lookupsPerIp: number;
  readonly maxConnectionsPerIp: number;
  /** Token bucket for every socket event other than `send` (ack, unknown events). */
  readonly eventRatePerSecond: number;
  readonly eventBurst: number;
  /** A socket must send its Socket.IO CONNECT (with auth) within this time. */
  readonly handshakeTimeoutMs: number;
  /** Sockets that send no event (no send, no ack) for this long are closed; 0 = never. */
  readonly idleTimeoutMs: number;
  /** Engine.IO connections per client IP that have not completed their signed handshake. */
  readonly maxUnauthenticatedPerIp: number;
  /** Offer Engine.IO long-polling besides WebSocket (off: the SDK and web client use WebSocket only). */
  readonly longPolling: boolean;
  /** HTTP: a connection must send complete request headers within this long (also one that sends nothing). */
  readonly headersTimeoutMs: number;
  /** HTTP: a whole request (headers and body) must arrive within this long. */
  readonly requestTimeoutMs: number;
  /** HTTP: an idle keep-alive connection is closed after this long. */
  readonly keepAliveTimeoutMs: number;
  /** Bytes a socket may hold unsent in the relay; past it the socket gets no live pushes (they wait in its queue). */
  readonly maxSocketBufferBytes: number;
  /** A socket over maxSocketBufferBytes that does not drain to half of it within this long is closed. */
  readonly socketDrainTimeoutMs: number;
  /** Free disk space kept in reserve: below it, sends and registrations are refused `unavailable`. */
  readonly minFreeDiskBytes: number;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
}

type Kind = 'int' | 'string' | 'bool' | 'list' | 'level' | 'sync' | 'parser' | 'proxies' | 'origin';

interface FlagSpec {
  key: keyof Config;
  flag: string;
  env: string;
  kind: Kind;
  default: Config[keyof Config];
  help: string;
  min?: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** The flag table: one row per setting; --help is generated from it. */
export const FLAGS: readonly FlagSpec[] = [
  { key: 'port', flag: 'port', env: 'SEALPOST_PORT', kind: 'int', default: 8080, min: 0, help: 'TCP port to listen on (0 = any free port)' },
  { key: 'host', flag: 'host', env: 'SEALPOST_HOST', kind: 'string', default: '127.0.0.1', help: 'interface to bind (0.0.0.0 for all)' },
  { key: 'db', flag: 'db', env: 'SEALPOST_DB', kind: 'string', default: './data/sealpost.db', help: 'SQLite database file (its directory is created)' },
  { key: 'dbSynchronous', flag: 'db-synchronous', env: 'SEALPOST_DB_SYNCHRONOUS', kind: 'sync', default: 'FULL', help: 'SQLite synchronous mode: FULL (acked envelopes survive power loss) or NORMAL' },
  { key: 'parser', flag: 'parser', env: 'SEALPOST_PARSER', kind: 'parser', default: 'msgpack', help: 'Socket.IO parser: msgpack (an event with its bodies is one WebSocket frame; clients use socket.io-msgpack-parser), or json (the stock Socket.IO parser, for stock clients)' },
  { key: 'tlsCert', flag: 'tls-cert', env: 'SEALPOST_TLS_CERT', kind: 'string', default: undefined, help: 'PEM certificate file; with --tls-key serves HTTPS + WSS' },
  { key: 'tlsKey', flag: 'tls-key', env: 'SEALPOST_TLS_KEY', kind: 'string', default: undefined, help: 'PEM private key file' },
  { key: 'corsOrigins', flag: 'cors-origin', env: 'SEALPOST_CORS_ORIGIN', kind: 'list', default: [], help: 'allowed cross-origin origin (repeatable or comma-separated; default same-origin only, never *)' },
  { key: 'staticDir', flag: 'static-dir', env: 'SEALPOST_STATIC_DIR', kind: 'string', default: DEFAULT_STATIC_DIR, help: 'web client build folder served at / (default: dist/web of this package)' },
  { key: 'logLevel', flag: 'log-level', env: 'SEALPOST_LOG_LEVEL', kind: 'level', default: 'info', help: 'fatal|error|warn|info|debug|trace|silent' },
  { key: 'trustProxy', flag: 'trust-proxy', env: 'SEALPOST_TRUST_PROXY', kind: 'proxies', default: [], help: 'addresses of your reverse proxies, IPs or CIDRs (repeatable or comma-separated, e.g. 127.0.0.1): per-IP limits count the right-most X-Forwarded-For entry that is not one of them; "false" = none; "true" is refused' },
  { key: 'publicOrigin', flag: 'public-origin', env: 'SEALPOST_PUBLIC_ORIGIN', kind: 'origin', default: undefined, help: 'the URL clients address (e.g. https://relay.example.org): signed handshakes and requests must bind its host, and HTTP requests with another Host header are refused 400 invalid; unset = the Host header is bound (dev only, warned at start)' },
  { key: 'maxBodyBytes', flag: 'max-body-bytes', env: 'SEALPOST_MAX_BODY_BYTES', kind: 'int', default: 64 * KiB, min: 1, help: 'largest envelope body in bytes' },
  { key: 'maxBatch', flag: 'max-batch', env: 'SEALPOST_MAX_BATCH', kind: 'int', default: 100, min: 1, help: 'most envelopes in one send' },
  { key: 'maxQueueEnvelopes', flag: 'max-queue-envelopes', env: 'SEALPOST_MAX_QUEUE_ENVELOPES', kind: 'int', default: 10_000, min: 1, help: 'most undelivered envelopes per device' },
  { key: 'maxQueueBytes', flag: 'max-queue-bytes', env: 'SEALPOST_MAX_QUEUE_BYTES', kind: 'int', default: 100 * MiB, min: 1, help: 'most undelivered body bytes per device' },
  { key: 'maxTotalQueueBytes', flag: 'max-total-queue-bytes', env: 'SEALPOST_MAX_TOTAL_QUEUE_BYTES', kind: 'int', default: 8 * GiB, min: 1, help: 'most undelivered body bytes across all devices together; past it durable envelopes are refused quota_exceeded' },
  { key: 'pairRatePerSecond', flag: 'pair-rate', env: 'SEALPOST_PAIR_RATE', kind: 'int', default: 5, min: 1, help: 'durable envelopes per second from one sending device to one recipient device (in-memory token bucket refill); past it refused rate_limited' },
  { key: 'pairBurst', flag: 'pair-burst', env: 'SEALPOST_PAIR_BURST', kind: 'int', default: 200, min: 1, help: 'durable envelopes one sending device may burst to one recipient device' },
  { key: 'inboundBytesPerDevice', flag: 'inbound-bytes-per-device', env: 'SEALPOST_INBOUND_BYTES_PER_DEVICE', kind: 'int', default: 64 * MiB, min: 1, help: 'body bytes of durable envelopes one recipient device may receive per --inbound-window-ms, all senders together (in memory); past it refused rate_limited' },
  { key: 'inboundWindowMs', flag: 'inbound-window-ms', env: 'SEALPOST_INBOUND_WINDOW_MS', kind: 'int', default: 600_000, min: 1000, help: 'the window of --inbound-bytes-per-device (10 minutes)' },
  { key: 'ttlMs', flag: 'ttl-ms', env: 'SEALPOST_TTL_MS', kind: 'int', default: 30 * 24 * 3600 * 1000, min: 1, help: 'undelivered envelopes expire after this many ms (30 days)' },
  { key: 'sweepIntervalMs', flag: 'sweep-interval-ms', env: 'SEALPOST_SWEEP_INTERVAL_MS', kind: 'int', default: 60_000, min: 10, help: 'how often expired envelopes are deleted' },
  { key: 'handshakeSkewMs', flag: 'handshake-skew-ms', env: 'SEALPOST_HANDSHAKE_SKEW_MS', kind: 'int', default: 60_000, min: 1, help: 'accepted clock skew of signed handshakes and requests' },
  { key: 'sendRatePerSecond', flag: 'send-rate', env: 'SEALPOST_SEND_RATE', kind: 'int', default: 50, min: 1, help: 'send events per second per socket (token bucket refill)' },
  { key: 'sendBurst', flag: 'send-burst', env: 'SEALPOST_SEND_BURST', kind: 'int', default: 100, min: 1, help: 'send events a socket may burst' },
  { key: 'maxDevicesPerAccount', flag: 'max-devices', env: 'SEALPOST_MAX_DEVICES', kind: 'int', default: 6, min: 1, help: 'most devices per account' },
  { key: 'drainPageSize', flag: 'drain-page-size', env: 'SEALPOST_DRAIN_PAGE_SIZE', kind: 'int', default: 100, min: 1, help: 'envelopes per backlog page on connect' },
  { key: 'prekeyLowThreshold', flag: 'prekey-low-threshold', env: 'SEALPOST_PREKEY_LOW_THRESHOLD', kind: 'int', default: 10, min: 0, help: 'tell a device when fewer one-time prekeys remain' },
  { key: 'ipRateLimitPerMinute', flag: 'ip-rate-limit', env: 'SEALPOST_IP_RATE_LIMIT', kind: 'int', default: 60, min: 1, help: 'per-IP requests per minute to registration, device-list, bundle and provisioning routes; also refused socket handshakes per IP per minute' },
  { key: 'bundleClaimsPerDevice', flag: 'bundle-claims-per-device', env: 'SEALPOST_BUNDLE_CLAIMS_PER_DEVICE', kind: 'int', default: 120, min: 1, help: 'prekey-bundle claims per minute by one requesting device' },
  { key: 'bundleClaimsPerTarget', flag: 'bundle-claims-per-target', env: 'SEALPOST_BUNDLE_CLAIMS_PER_TARGET', kind: 'int', default: 30, min: 1, help: "prekey-bundle claims per minute of one device's bundle (all requesters together)" },
  { key: 'signedRequestsPerDevice', flag: 'signed-requests-per-device', env: 'SEALPOST_SIGNED_REQUESTS_PER_DEVICE', kind: 'int', default: 600, min: 1, help: 'signed requests per minute by one signing key, any route (in-memory token bucket: burst N, refill N/60 per s), on top of the per-IP limits' },
  { key: 'noncesPerDevice', flag: 'nonces-per-device', env: 'SEALPOST_NONCES_PER_DEVICE', kind: 'int', default: 2000, min: 1, help: 'nonces one signing key may spend (signed requests and socket handshakes together) within twice the --handshake-skew-ms window; past it that key alone is refused rate_limited' },
  { key: 'lookupsPerDevice', flag: 'lookups-per-device', env: 'SEALPOST_LOOKUPS_PER_DEVICE', kind: 'int', default: 120, min: 1, help: 'account lookups (GET /v2/accounts/:handle) per minute by one requesting device (in-memory token bucket)' },
  { key: 'lookupsPerIp', flag: 'lookups-per-ip', env: 'SEALPOST_LOOKUPS_PER_IP', kind: 'int', default: 300, min: 1, help: 'account lookups per minute from one client IP' },
  { key: 'maxConnectionsPerIp', flag: 'max-connections-per-ip', env: 'SEALPOST_MAX_CONNECTIONS_PER_IP', kind: 'int', default: 50, min: 1, help: 'live sockets per client IP' },
  { key: 'eventRatePerSecond', flag: 'event-rate', env: 'SEALPOST_EVENT_RATE', kind: 'int', default: 50, min: 1, help: 'other socket events (ack, unknown) per second per socket (token bucket refill)' },
  { key: 'eventBurst', flag: 'event-burst', env: 'SEALPOST_EVENT_BURST', kind: 'int', default: 100, min: 1, help: 'other socket events a socket may burst' },
  { key: 'handshakeTimeoutMs', flag: 'handshake-timeout-ms', env: 'SEALPOST_HANDSHAKE_TIMEOUT_MS', kind: 'int', default: 10_000, min: 100, help: 'a connection that has not completed its signed handshake by then is closed' },
  { key: 'idleTimeoutMs', flag: 'idle-timeout-ms', env: 'SEALPOST_IDLE_TIMEOUT_MS', kind: 'int', default: 600_000, min: 0, help: 'close sockets that send no event (send or ack) for this long; 0 = never' },
  { key: 'maxUnauthenticatedPerIp', flag: 'max-unauthenticated-per-ip', env: 'SEALPOST_MAX_UNAUTHENTICATED_PER_IP', kind: 'int', default: 16, min: 1, help: 'socket connections per client IP that have not completed their signed handshake; more are refused at the upgrade' },
  { key: 'longPolling', flag: 'long-polling', env: 'SEALPOST_LONG_POLLING', kind: 'bool', default: false, help: 'also offer Engine.IO HTTP long-polling (default WebSocket only, which the SDK and web client use)' },
  { key: 'headersTimeoutMs', flag: 'headers-timeout-ms', env: 'SEALPOST_HEADERS_TIMEOUT_MS', kind: 'int', default: 10_000, min: 100, help: 'close an HTTP connection that has not sent complete request headers by then (also one that sends nothing)' },
  { key: 'requestTimeoutMs', flag: 'request-timeout-ms', env: 'SEALPOST_REQUEST_TIMEOUT_MS', kind: 'int', default: 30_000, min: 100, help: 'close an HTTP connection whose request (headers and body) has not fully arrived by then' },
  { key: 'keepAliveTimeoutMs', flag: 'keep-alive-timeout-ms', env: 'SEALPOST_KEEP_ALIVE_TIMEOUT_MS', kind: 'int', default: 5_000, min: 100, help: 'close an idle keep-alive HTTP connection after this long (behind a load balancer, set it above the balancer\'s idle timeout)' },
  { key: 'maxSocketBufferBytes', flag: 'max-socket-buffer-bytes', env: 'SEALPOST_MAX_SOCKET_BUFFER_BYTES', kind: 'int', default: 4 * MiB, min: 64 * KiB, help: 'bytes a socket may hold unsent in the relay; past it the socket gets no live pushes (its envelopes stay queued and are drained once it catches up)' },
  { key: 'socketDrainTimeoutMs', flag: 'socket-drain-timeout-ms', env: 'SEALPOST_SOCKET_DRAIN_TIMEOUT_MS', kind: 'int', default: 30_000, min: 100, help: 'close a socket over --max-socket-buffer-bytes that has not drained to half of it by then (pings do not count; an ack after the client read some does)' },
  { key: 'minFreeDiskBytes', flag: 'min-free-disk-bytes', env: 'SEALPOST_MIN_FREE_DISK_BYTES', kind: 'int', default: 64 * MiB, min: 0, help: 'free space kept in reserve on the database disk: below it sends, registrations and prekey uploads are refused unavailable (reads and acks go on); 0 = no reserve' },
  { key: 'metricsToken', flag: 'metrics-token', env: 'SEALPOST_METRICS_TOKEN', kind: 'string', default: undefined, help: 'require "Authorization: Bearer TOKEN" on GET /metrics' },
];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function convert(spec: FlagSpec, raw: string, source: string): unknown {
  switch (spec.kind) {
    case 'int': {
      if (!/^\d+$/.test(raw)) throw new ConfigError(`${source}: expected a non-negative integer, got "${raw}"`);
      const value = Number(raw);
      if (!Number.isSafeInteger(value) || value < (spec.min ?? 0)) throw new ConfigError(`${source}: must be ≥ ${spec.min ?? 0}`);
      return value;
    }
    case 'bool':
      if (['1', 'true', 'yes', ''].includes(raw)) return true;
      if (['0', 'false', 'no'].includes(raw)) return false;
      throw new ConfigError(`${source}: expected true or false, got "${raw}"`);
    case 'level':
      if (!LEVELS.includes(raw as LogLevel)) throw new ConfigError(`${source}: expected one of ${LEVELS.join('|')}`);
      return raw;
    case 'sync':
      if (raw !== 'FULL' && raw !== 'NORMAL') throw new ConfigError(`${source}: expected FULL or NORMAL`);
      return raw;
    case 'parser':
      if (raw !== 'msgpack' && raw !== 'json') throw new ConfigError(`${source}: expected msgpack or json`);
      return raw;
    case 'proxies':
      return parseTrustProxy(raw, source);
    case 'origin':
      return parsePublicOrigin(raw, source);
    case 'list':
      return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    case 'string':
      if (raw.length === 0) throw new ConfigError(`${source}: must not be empty`);
      return raw;
  }
}

const TRUST_TRUE_REFUSED =
  'is refused: it would believe X-Forwarded-For from anyone, so any client could pick the address its per-IP limits count. List the addresses of your reverse proxies instead (IPs or CIDRs, comma-separated), e.g. --trust-proxy 127.0.0.1 for a proxy on this machine';

/** --trust-proxy: a list of proxy IPs/CIDRs; false/no/0 = none; true is refused. */
function parseTrustProxy(raw: string, source: string): string[] {
  const value = raw.trim().toLowerCase();
  if (['0', 'false', 'no'].includes(value)) return [];
  if (['1', 'true', 'yes', ''].includes(value)) throw new ConfigError(`${source} ${raw === '' ? '(no value)' : `"${raw}"`} ${TRUST_TRUE_REFUSED}`);
  const entries = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const entry of entries) {
    const error = proxyEntryError(entry);
    if (error) throw new ConfigError(`${source}: ${error}; list your reverse proxies' IP addresses or CIDRs, comma-separated`);
  }
  return entries;
}

/** --public-origin: an http(s) origin with no path, query or fragment; returned as URL.origin. */
export function parsePublicOrigin(raw: string, source: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${source}: expected a URL such as https://relay.example.org, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError(`${source}: must be an http:// or https:// URL`);
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw new ConfigError(`${source}: must be an origin only (scheme, host, optional port), got "${raw}"`);
  }
  return url.origin;
}

function validate(config: Config): void {
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) {
    throw new ConfigError('--tls-cert and --tls-key must be given together');
  }
  if (config.corsOrigins.includes('*')) throw new ConfigError('--cors-origin "*" is refused: list the allowed origins');
  if (config.inboundBytesPerDevice < config.maxBodyBytes) throw new ConfigError('--inbound-bytes-per-device must be at least --max-body-bytes');
  if (config.port > 65535) throw new ConfigError('--port must be ≤ 65535');
  if (!Array.isArray(config.trustProxy)) throw new ConfigError(`--trust-proxy ${TRUST_TRUE_REFUSED}`);
  for (const entry of config.trustProxy) {
    const error = proxyEntryError(entry);
    if (error) throw new ConfigError(`--trust-proxy: ${error}`);
  }
}

/**
 * Parses `argv` (flags after the sub-command) and `env`. `overrides` (tests) win over both.
 * Creates the database directory. Returns a frozen Config.
 */
export function loadConfig(argv: readonly string[] = [], env: NodeJS.ProcessEnv = {}, overrides: Partial<Config> = {}): Config {
  const values: Record<string, unknown> = {};
  for (const spec of FLAGS) values[spec.key] = spec.default;
  for (const spec of FLAGS) {
    const raw = env[spec.env];
    if (raw !== undefined) values[spec.key] = convert(spec, raw, spec.env);
  }
  const lists = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = FLAGS.find((f) => f.flag === name);
    if (!spec) throw new ConfigError(`unknown flag --${name}`);
    let raw: string;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else if (spec.kind === 'bool' && (argv[i + 1] === undefined || argv[i + 1]?.startsWith('--'))) raw = 'true';
    // A bare --trust-proxy used to mean "trust anyone"; it is refused with the reason.
    else if (spec.kind === 'proxies' && (argv[i + 1] === undefined || argv[i + 1]?.startsWith('--'))) raw = '';
    else {
      const next = argv[++i];
      if (next === undefined) throw new ConfigError(`--${name} needs a value`);
      raw = next;
    }
    const value = convert(spec, raw, `--${name}`);
    if (spec.kind === 'list' || spec.kind === 'proxies') {
      const acc = lists.get(spec.key) ?? [];
      acc.push(...(value as string[]));
      lists.set(spec.key, acc);
      values[spec.key] = acc;
    } else values[spec.key] = value;
  }
  Object.assign(values, overrides);
  const config = values as unknown as Config;
  validate(config);
  const publicOrigin = config.publicOrigin === undefined ? undefined : parsePublicOrigin(config.publicOrigin, '--public-origin');
  if (config.db !== ':memory:') mkdirSync(dirname(resolve(config.db)), { recursive: true });
  return Object.freeze({ ...config, publicOrigin, corsOrigins: Object.freeze([...config.corsOrigins]), trustProxy: Object.freeze([...config.trustProxy]) });
}

/** `--help` text for `sealpost serve`, generated from FLAGS so it cannot drift. */
export function serveHelp(): string {
  const rows = FLAGS.map((f) => {
    const def = f.default === undefined ? '(none)' : Array.isArray(f.default) ? (f.default.length ? f.default.join(',') : f.key === 'corsOrigins' ? '(same-origin only)' : '(none)') : String(f.default);
    return `  --${f.flag.padEnd(24)} ${f.help}\n  ${''.padEnd(26)} env ${f.env}, default ${def}`;
  });
  return ['Usage: sealpost serve [flags]', '', 'Runs the relay. Flags override environment variables.', '', ...rows, '  --help                     show this help'].join('\n');
}
