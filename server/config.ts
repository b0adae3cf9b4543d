/**
 * The relay's one typed configuration. FLAGS is the only description of a setting: its flag,
 * its SEALPOST_* variable, its type (which parses and checks it), its default and its help.
 * loadConfig() reads the flags with node:util parseArgs (strict) and the environment through
 * that table, a flag winning over its variable, checks the rules between settings, and freezes
 * the result. Every limit of DESIGN.md "Defaults" is here, so tests and operators tune the
 * same knobs; `sealpost serve --help` (bin/sealpost.ts) is generated from the table.
 */
import { mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, contact, int, list, onOff, oneOf, origin, parsePublicOrigin, proxies, serviceUrl, text, type ValueType } from './config-values.js';
import { proxyEntryError } from './http/client-ip.js';

export { ConfigError, redactUrl, type ValueType } from './config-values.js';

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
  /** Bytes per second one connection may make the relay read (sustained; WebSocket frames, before any decoding). */
  readonly inboundBytesPerSecond: number;
  /** Bytes one connection may send at once above that rate (at least one full send batch). */
  readonly inboundBurstBytes: number;
  /** A socket over maxSocketBufferBytes that does not drain to half of it within this long is closed. */
  readonly socketDrainTimeoutMs: number;
  /** Free disk space kept in reserve: below it, sends and registrations are refused `unavailable`. */
  readonly minFreeDiskBytes: number;
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  readonly metricsToken: string | undefined;
  /** Largest attachment blob (encrypted and padded) in bytes. */
  readonly maxAttachmentBytes: number;
  /** Live attachment blobs one account may hold, unfinished uploads included. */
  readonly maxAttachmentsPerAccount: number;
  /** Sum of the sizes of one account's live attachment blobs. */
  readonly maxAttachmentBytesPerAccount: number;
  /** Attachment blobs expire this long after their upload began. */
  readonly attachmentTtlMs: number;
  /** Attachment uploads begun per minute by one device (token bucket). */
  readonly attachmentUploadsPerDevice: number;
  /** Attachment downloads per minute from one client IP. */
  readonly attachmentDownloadsPerIp: number;
  /** Web Push: wake devices with no live socket by a content-free push (--no-push turns it off). */
  readonly push: boolean;
  /** At most one push per device within this many ms. */
  readonly pushMinIntervalMs: number;
  /** VAPID `sub` (mailto: or https:); unset = the https:// --public-origin, else a placeholder. */
  readonly pushSubject: string | undefined;
  /** Development and tests only: accept http:// push endpoints on this machine's loopback address. */
  readonly pushAllowInsecureEndpoints: boolean;
  /** Cluster mode: a postgres:// URL; the relay's data lives in PostgreSQL instead of the SQLite file. May hold a password: never log it unredacted. */
  readonly postgres: string | undefined;
  /** Cluster mode: a redis:// URL of the notice bus between relay processes (needs postgres). May hold a password. */
  readonly redis: string | undefined;
}

/** One setting. The key's Config type ties `type` and `default` to the field they fill. */
export interface Option<K extends keyof Config> {
  readonly key: K;
  readonly flag: string;
  readonly env: `SEALPOST_${string}`;
  readonly type: ValueType<Config[K]>;
  readonly default: Config[K];
  /** The default as --help shows it, where the value itself says little (a path of this machine, an empty list). */
  readonly shownDefault?: string;
  readonly help: string;
}

export type AnyOption = { [K in keyof Config]: Option<K> }[keyof Config];

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The option table: one row per setting. */
export const FLAGS: readonly AnyOption[] = [
  { key: 'port', flag: 'port', env: 'SEALPOST_PORT', type: int(0, 65535), default: 8080, help: 'TCP port to listen on (0 = any free port)' },
  { key: 'host', flag: 'host', env: 'SEALPOST_HOST', type: text('HOST'), default: '127.0.0.1', help: 'interface to bind (0.0.0.0 for all)' },
  { key: 'db', flag: 'db', env: 'SEALPOST_DB', type: text('FILE'), default: './data/sealpost.db', help: 'SQLite database file (its directory is created)' },
  { key: 'dbSynchronous', flag: 'db-synchronous', env: 'SEALPOST_DB_SYNCHRONOUS', type: oneOf<SyncMode>(['FULL', 'NORMAL']), default: 'FULL', help: 'SQLite synchronous mode: FULL (acked envelopes survive power loss) or NORMAL' },
  { key: 'parser', flag: 'parser', env: 'SEALPOST_PARSER', type: oneOf<WireParser>(['msgpack', 'json']), default: 'msgpack', help: 'Socket.IO parser: msgpack (an event with its bodies is one WebSocket frame; clients use socket.io-msgpack-parser), or json (the stock Socket.IO parser, for stock clients)' },
  { key: 'tlsCert', flag: 'tls-cert', env: 'SEALPOST_TLS_CERT', type: text('FILE'), default: undefined, help: 'PEM certificate file; with --tls-key serves HTTPS + WSS' },
  { key: 'tlsKey', flag: 'tls-key', env: 'SEALPOST_TLS_KEY', type: text('FILE'), default: undefined, help: 'PEM private key file' },
  { key: 'corsOrigins', flag: 'cors-origin', env: 'SEALPOST_CORS_ORIGIN', type: list('ORIGIN'), default: [], shownDefault: 'same-origin only', help: 'allowed cross-origin origin (repeatable or comma-separated; never *)' },
  { key: 'staticDir', flag: 'static-dir', env: 'SEALPOST_STATIC_DIR', type: text('DIR'), default: DEFAULT_STATIC_DIR, shownDefault: 'dist/web of this package', help: 'web client build folder served at /' },
  { key: 'logLevel', flag: 'log-level', env: 'SEALPOST_LOG_LEVEL', type: oneOf(LEVELS, 'LEVEL'), default: 'info', help: `how much the relay logs (JSON lines on stdout): ${LEVELS.join('|')}` },
  { key: 'trustProxy', flag: 'trust-proxy', env: 'SEALPOST_TRUST_PROXY', type: proxies, default: [], help: 'addresses of your reverse proxies, IPs or CIDRs (repeatable or comma-separated, e.g. 127.0.0.1): per-IP limits count the right-most X-Forwarded-For entry that is not one of them; "false" = none; "true" is refused' },
  { key: 'publicOrigin', flag: 'public-origin', env: 'SEALPOST_PUBLIC_ORIGIN', type: origin, default: undefined, help: 'the URL clients address (e.g. https://relay.example.org): signed handshakes and requests must bind its host, and HTTP requests with another Host header are refused 400 invalid; unset = the Host header is bound (dev only, warned at start)' },
  { key: 'maxBodyBytes', flag: 'max-body-bytes', env: 'SEALPOST_MAX_BODY_BYTES', type: int(1), default: 64 * KiB, help: 'largest envelope body in bytes' },
  { key: 'maxBatch', flag: 'max-batch', env: 'SEALPOST_MAX_BATCH', type: int(1), default: 100, help: 'most envelopes in one send' },
  { key: 'maxQueueEnvelopes', flag: 'max-queue-envelopes', env: 'SEALPOST_MAX_QUEUE_ENVELOPES', type: int(1), default: 10_000, help: 'most undelivered envelopes per device' },
  { key: 'maxQueueBytes', flag: 'max-queue-bytes', env: 'SEALPOST_MAX_QUEUE_BYTES', type: int(1), default: 100 * MiB, help: 'most undelivered body bytes per device' },
  { key: 'maxTotalQueueBytes', flag: 'max-total-queue-bytes', env: 'SEALPOST_MAX_TOTAL_QUEUE_BYTES', type: int(1), default: 8 * GiB, help: 'most undelivered body bytes across all devices together; past it durable envelopes are refused quota_exceeded' },
  { key: 'pairRatePerSecond', flag: 'pair-rate', env: 'SEALPOST_PAIR_RATE', type: int(1), default: 5, help: 'durable envelopes per second from one sending device to one recipient device (in-memory token bucket refill); past it refused rate_limited' },
  { key: 'pairBurst', flag: 'pair-burst', env: 'SEALPOST_PAIR_BURST', type: int(1), default: 200, help: 'durable envelopes one sending device may burst to one recipient device' },
  { key: 'inboundBytesPerDevice', flag: 'inbound-bytes-per-device', env: 'SEALPOST_INBOUND_BYTES_PER_DEVICE', type: int(1), default: 64 * MiB, help: 'body bytes of durable envelopes one recipient device may receive per --inbound-window-ms, all senders together (in memory); past it refused rate_limited' },
  { key: 'inboundWindowMs', flag: 'inbound-window-ms', env: 'SEALPOST_INBOUND_WINDOW_MS', type: int(1000), default: 600_000, help: 'the window of --inbound-bytes-per-device (10 minutes)' },
  { key: 'ttlMs', flag: 'ttl-ms', env: 'SEALPOST_TTL_MS', type: int(1), default: 30 * 24 * 3600 * 1000, help: 'undelivered envelopes expire after this many ms (30 days)' },
  { key: 'sweepIntervalMs', flag: 'sweep-interval-ms', env: 'SEALPOST_SWEEP_INTERVAL_MS', type: int(10), default: 60_000, help: 'how often expired envelopes are deleted' },
  { key: 'handshakeSkewMs', flag: 'handshake-skew-ms', env: 'SEALPOST_HANDSHAKE_SKEW_MS', type: int(1), default: 60_000, help: 'accepted clock skew of signed handshakes and requests' },
  { key: 'sendRatePerSecond', flag: 'send-rate', env: 'SEALPOST_SEND_RATE', type: int(1), default: 50, help: 'send events per second per socket (token bucket refill)' },
  { key: 'sendBurst', flag: 'send-burst', env: 'SEALPOST_SEND_BURST', type: int(1), default: 100, help: 'send events a socket may burst' },
  { key: 'maxDevicesPerAccount', flag: 'max-devices', env: 'SEALPOST_MAX_DEVICES', type: int(1), default: 6, help: 'most devices per account' },
  { key: 'drainPageSize', flag: 'drain-page-size', env: 'SEALPOST_DRAIN_PAGE_SIZE', type: int(1), default: 100, help: 'envelopes per backlog page on connect' },
  { key: 'prekeyLowThreshold', flag: 'prekey-low-threshold', env: 'SEALPOST_PREKEY_LOW_THRESHOLD', type: int(0), default: 10, help: 'tell a device when fewer one-time prekeys remain' },
  { key: 'ipRateLimitPerMinute', flag: 'ip-rate-limit', env: 'SEALPOST_IP_RATE_LIMIT', type: int(1), default: 60, help: 'per-IP requests per minute to registration, device-list, bundle and provisioning routes; also refused socket handshakes per IP per minute' },
  { key: 'bundleClaimsPerDevice', flag: 'bundle-claims-per-device', env: 'SEALPOST_BUNDLE_CLAIMS_PER_DEVICE', type: int(1), default: 120, help: 'prekey-bundle claims per minute by one requesting device' },
  { key: 'bundleClaimsPerTarget', flag: 'bundle-claims-per-target', env: 'SEALPOST_BUNDLE_CLAIMS_PER_TARGET', type: int(1), default: 30, help: "prekey-bundle claims per minute of one device's bundle (all requesters together)" },
  { key: 'signedRequestsPerDevice', flag: 'signed-requests-per-device', env: 'SEALPOST_SIGNED_REQUESTS_PER_DEVICE', type: int(1), default: 600, help: 'signed requests per minute by one signing key, any route (in-memory token bucket: burst N, refill N/60 per s), on top of the per-IP limits' },
  { key: 'noncesPerDevice', flag: 'nonces-per-device', env: 'SEALPOST_NONCES_PER_DEVICE', type: int(1), default: 2000, help: 'nonces one signing key may spend (signed requests and socket handshakes together) within twice the --handshake-skew-ms window; past it that key alone is refused rate_limited' },
  { key: 'lookupsPerDevice', flag: 'lookups-per-device', env: 'SEALPOST_LOOKUPS_PER_DEVICE', type: int(1), default: 120, help: 'account lookups (GET /v2/accounts/:handle) per minute by one requesting device (in-memory token bucket)' },
  { key: 'lookupsPerIp', flag: 'lookups-per-ip', env: 'SEALPOST_LOOKUPS_PER_IP', type: int(1), default: 300, help: 'account lookups per minute from one client IP' },
  { key: 'maxConnectionsPerIp', flag: 'max-connections-per-ip', env: 'SEALPOST_MAX_CONNECTIONS_PER_IP', type: int(1), default: 50, help: 'live sockets per client IP' },
  { key: 'eventRatePerSecond', flag: 'event-rate', env: 'SEALPOST_EVENT_RATE', type: int(1), default: 50, help: 'other socket events (ack, unknown) per second per socket (token bucket refill)' },
  { key: 'eventBurst', flag: 'event-burst', env: 'SEALPOST_EVENT_BURST', type: int(1), default: 100, help: 'other socket events a socket may burst' },
  { key: 'handshakeTimeoutMs', flag: 'handshake-timeout-ms', env: 'SEALPOST_HANDSHAKE_TIMEOUT_MS', type: int(100), default: 10_000, help: 'a connection that has not completed its signed handshake by then is closed' },
  { key: 'idleTimeoutMs', flag: 'idle-timeout-ms', env: 'SEALPOST_IDLE_TIMEOUT_MS', type: int(0), default: 600_000, help: 'close sockets that send no event (send or ack) for this long; 0 = never' },
  { key: 'maxUnauthenticatedPerIp', flag: 'max-unauthenticated-per-ip', env: 'SEALPOST_MAX_UNAUTHENTICATED_PER_IP', type: int(1), default: 16, help: 'socket connections per client IP that have not completed their signed handshake; more are refused at the upgrade' },
  { key: 'longPolling', flag: 'long-polling', env: 'SEALPOST_LONG_POLLING', type: onOff, default: false, help: 'also offer Engine.IO HTTP long-polling (default WebSocket only, which the SDK and web client use; --no-long-polling overrides the variable)' },
  { key: 'headersTimeoutMs', flag: 'headers-timeout-ms', env: 'SEALPOST_HEADERS_TIMEOUT_MS', type: int(100), default: 10_000, help: 'close an HTTP connection that has not sent complete request headers by then (also one that sends nothing)' },
  { key: 'requestTimeoutMs', flag: 'request-timeout-ms', env: 'SEALPOST_REQUEST_TIMEOUT_MS', type: int(100), default: 30_000, help: 'close an HTTP connection whose request (headers and body) has not fully arrived by then' },
  { key: 'keepAliveTimeoutMs', flag: 'keep-alive-timeout-ms', env: 'SEALPOST_KEEP_ALIVE_TIMEOUT_MS', type: int(100), default: 5_000, help: 'close an idle keep-alive HTTP connection after this long (behind a load balancer, set it above the balancer\'s idle timeout)' },
  { key: 'inboundBytesPerSecond', flag: 'inbound-bytes-per-second', env: 'SEALPOST_INBOUND_BYTES_PER_SECOND', type: int(64 * KiB), default: 8 * MiB, help: 'bytes per second one connection may make the relay read; past it the relay stops reading that connection until its budget refills (TCP pushes back on the sender)' },
  { key: 'inboundBurstBytes', flag: 'inbound-burst-bytes', env: 'SEALPOST_INBOUND_BURST_BYTES', type: int(64 * KiB), default: 16 * MiB, help: 'bytes one connection may send at once above --inbound-bytes-per-second (one full batch of 100 maximal envelopes is ~6.5 MB)' },
  { key: 'maxSocketBufferBytes', flag: 'max-socket-buffer-bytes', env: 'SEALPOST_MAX_SOCKET_BUFFER_BYTES', type: int(64 * KiB), default: 4 * MiB, help: 'bytes a socket may hold unsent in the relay; past it the socket gets no live pushes (its envelopes stay queued and are drained once it catches up)' },
  { key: 'socketDrainTimeoutMs', flag: 'socket-drain-timeout-ms', env: 'SEALPOST_SOCKET_DRAIN_TIMEOUT_MS', type: int(100), default: 30_000, help: 'close a socket over --max-socket-buffer-bytes that has not drained to half of it by then (pings do not count; an ack after the client read some does)' },
  { key: 'minFreeDiskBytes', flag: 'min-free-disk-bytes', env: 'SEALPOST_MIN_FREE_DISK_BYTES', type: int(0), default: 64 * MiB, help: 'free space kept in reserve on the database disk: below it sends, registrations and prekey uploads are refused unavailable (reads and acks go on); 0 = no reserve' },
  { key: 'metricsToken', flag: 'metrics-token', env: 'SEALPOST_METRICS_TOKEN', type: text('TOKEN'), default: undefined, help: 'require "Authorization: Bearer TOKEN" on GET /metrics' },
  { key: 'maxAttachmentBytes', flag: 'max-attachment-bytes', env: 'SEALPOST_MAX_ATTACHMENT_BYTES', type: int(1), default: 110 * MiB, help: 'largest attachment blob in bytes, as uploaded (encrypted and padded: 110 MiB holds a 100 MiB file); larger ones are refused too_large' },
  { key: 'maxAttachmentsPerAccount', flag: 'max-attachments-per-account', env: 'SEALPOST_MAX_ATTACHMENTS_PER_ACCOUNT', type: int(1), default: 1000, help: 'unexpired attachment blobs one account may hold, unfinished uploads included; past it refused quota_exceeded' },
  { key: 'maxAttachmentBytesPerAccount', flag: 'max-attachment-bytes-per-account', env: 'SEALPOST_MAX_ATTACHMENT_BYTES_PER_ACCOUNT', type: int(1), default: 2 * GiB, help: 'bytes of unexpired attachment blobs one account may hold, unfinished uploads included; past it refused quota_exceeded' },
  { key: 'attachmentTtlMs', flag: 'attachment-ttl-ms', env: 'SEALPOST_ATTACHMENT_TTL_MS', type: int(1), default: 30 * 24 * 3600 * 1000, help: 'attachment blobs are deleted this many ms after their upload began (30 days); unfinished uploads after 24 h' },
  { key: 'attachmentUploadsPerDevice', flag: 'attachment-uploads-per-device', env: 'SEALPOST_ATTACHMENT_UPLOADS_PER_DEVICE', type: int(1), default: 60, help: 'attachment uploads one device may begin per minute (token bucket)' },
  { key: 'attachmentDownloadsPerIp', flag: 'attachment-downloads-per-ip', env: 'SEALPOST_ATTACHMENT_DOWNLOADS_PER_IP', type: int(1), default: 600, help: 'attachment downloads per minute from one client IP' },
  { key: 'push', flag: 'push', env: 'SEALPOST_PUSH', type: onOff, default: true, help: 'Web Push: wake devices with no live socket by a content-free push (no sender, no text); --no-push turns it off, and the /v2/push routes answer 404 not_found' },
  { key: 'pushMinIntervalMs', flag: 'push-min-interval-ms', env: 'SEALPOST_PUSH_MIN_INTERVAL_MS', type: int(0), default: 5_000, help: 'at most one push per device within this many ms (a burst of messages is one notification)' },
  { key: 'pushSubject', flag: 'push-subject', env: 'SEALPOST_PUSH_SUBJECT', type: contact, default: undefined, shownDefault: 'the https:// --public-origin, else mailto:postmaster@localhost', help: 'a mailto: or https: URL where push services can reach the operator (VAPID "sub")' },
  { key: 'pushAllowInsecureEndpoints', flag: 'push-allow-insecure-endpoints', env: 'SEALPOST_PUSH_ALLOW_INSECURE_ENDPOINTS', type: onOff, default: false, help: 'development and tests only: also accept http:// push endpoints on this machine (127.0.0.1, ::1, localhost)' },
  { key: 'postgres', flag: 'postgres', env: 'SEALPOST_POSTGRES', type: serviceUrl(['postgres:', 'postgresql:']), default: undefined, help: 'cluster mode: keep the relay\'s data in this PostgreSQL database (postgres://USER:PASSWORD@HOST/DB) instead of the SQLite file, so several relay processes can serve it; not with --db' },
  { key: 'redis', flag: 'redis', env: 'SEALPOST_REDIS', type: serviceUrl(['redis:', 'rediss:']), default: undefined, help: 'cluster mode: the Redis server (redis:// or rediss:// for TLS) the relay processes use as a notice bus, to wake the process holding a recipient\'s socket; needs --postgres' },
];

const BY_FLAG = new Map<string, AnyOption>(FLAGS.map((o) => [o.flag, o]));

/** parseArgs options from the table: strings (repeatable lists) and switches, which also take --no-. */
const PARSE_OPTIONS: NonNullable<ParseArgsConfig['options']> = Object.fromEntries(
  FLAGS.map((o) => [o.flag, { type: o.type.switch ? 'boolean' : 'string', multiple: o.type.repeats === true }]),
);

type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

function readFlags(argv: readonly string[]): FlagValues {
  try {
    return parseArgs({ args: [...argv], options: PARSE_OPTIONS, strict: true, allowPositionals: false, allowNegative: true }).values;
  } catch (error) {
    throw explainRefusal(argv) ?? new ConfigError((error as Error).message);
  }
}

/**
 * The first argument that strict parsing refused, in words that name the flag. A loose pass of
 * parseArgs finds it: strict mode's own messages do not say which rule of ours was broken.
 */
function explainRefusal(argv: readonly string[]): ConfigError | undefined {
  const { tokens } = parseArgs({ args: [...argv], options: PARSE_OPTIONS, strict: false, allowPositionals: true, allowNegative: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'positional') return new ConfigError(`unexpected argument "${token.value}" (flags begin with --)`);
    if (token.kind !== 'option') continue;
    const option = BY_FLAG.get(token.name);
    // --no- belongs to switches only; parseArgs strips it from any name.
    if (!option || (!option.type.switch && token.rawName !== `--${option.flag}`)) return new ConfigError(`unknown flag ${token.rawName}`);
    if (option.type.switch) {
      if (token.value !== undefined) return new ConfigError(`${token.rawName} takes no value (use --${option.flag} or --no-${option.flag})`);
    } else if (token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))) {
      if (option.type.bare !== undefined) option.type.parse(option.type.bare, token.rawName);
      return new ConfigError(`${token.rawName} needs a value`);
    }
  }
  return undefined;
}

/** Rules between settings, on the final values. `from` names the flag or variable that set each one. */
function checkTogether(config: Config, from: ReadonlyMap<keyof Config, string>): void {
  if ((config.tlsCert === undefined) !== (config.tlsKey === undefined)) throw new ConfigError('--tls-cert and --tls-key must be given together');
  if (config.corsOrigins.includes('*')) throw new ConfigError('--cors-origin "*" is refused: list the allowed origins');
  if (config.inboundBytesPerDevice < config.maxBodyBytes) throw new ConfigError('--inbound-bytes-per-device must be at least --max-body-bytes');
  // Overrides (tests) skip the option types; their proxy entries are still checked.
  for (const entry of config.trustProxy) {
    const error = proxyEntryError(entry);
    if (error) throw new ConfigError(`--trust-proxy: ${error}`);
  }
  if (config.redis !== undefined && config.postgres === undefined) throw new ConfigError('--redis needs --postgres: the cluster keeps its data in PostgreSQL');
  const db = from.get('db');
  if (config.postgres !== undefined && db !== undefined) {
    throw new ConfigError(`${from.get('postgres') ?? '--postgres'} cannot be used with ${db}: with --postgres the relay keeps its data in PostgreSQL, not in a SQLite file`);
  }
}

/**
 * Parses `argv` (flags after the sub-command) and `env`. `overrides` (tests) win over both and
 * skip the option types, so a test may go below an operator's minimum; the rules between
 * settings still apply. Creates the SQLite file's directory (not in cluster mode). Returns a
 * frozen Config.
 */
export function loadConfig(argv: readonly string[] = [], env: NodeJS.ProcessEnv = {}, overrides: Partial<Config> = {}): Config {
  const flags = readFlags(argv);
  const values: Record<string, unknown> = {};
  const from = new Map<keyof Config, string>();
  for (const option of FLAGS) {
    const given = flags[option.flag];
    const raw = env[option.env];
    if (given !== undefined) {
      // A repeated flag's values join as its variable would list them; a switch is already a boolean.
      values[option.key] = typeof given === 'boolean' ? given : option.type.parse(Array.isArray(given) ? given.join(',') : given, `--${option.flag}`);
      from.set(option.key, `--${option.flag}`);
    } else if (raw !== undefined) {
      values[option.key] = option.type.parse(raw, option.env);
      from.set(option.key, option.env);
    } else values[option.key] = option.default;
  }
  for (const key of Object.keys(overrides) as (keyof Config)[]) from.delete(key);
  const config = { ...values, ...overrides } as Config;
  checkTogether(config, from);
  const publicOrigin = config.publicOrigin === undefined ? undefined : parsePublicOrigin(config.publicOrigin, '--public-origin');
  if (config.postgres === undefined && config.db !== ':memory:') mkdirSync(dirname(resolve(config.db)), { recursive: true });
  return Object.freeze({ ...config, publicOrigin, corsOrigins: Object.freeze([...config.corsOrigins]), trustProxy: Object.freeze([...config.trustProxy]) });
}
