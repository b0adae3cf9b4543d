/**
 * Client side of the attack benchmark, from the benchmark's own code (dist/ holds no test/):
 * accounts with a device key, signed requests (PROTOCOL.md "Signed requests") and signed socket
 * handshakes, all built by bench/load/sealpost-identity.ts as the load benchmark builds them;
 * sockets on the relay's msgpack wire; and raw HTTP from a chosen loopback source address
 * (127.0.0.0/8 is all local on Linux: every 127.x.y.z is a distinct "client IP" to the relay's
 * per-address limits without any configuration).
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { io, type Socket } from 'socket.io-client';
import { utf8 } from '../../crypto/encoding.js';
import type { SigningKeyPair } from '../../crypto/keys.js';
import { ready } from '../../crypto/sodium.js';
import type { ClientToServerEvents, HandshakeAuth, ServerToClientEvents } from '../../protocol/events.js';
import { HEADER_DEVICE_ID, type CreateAccountRequest } from '../../protocol/http.js';
import { msgpackParser } from '../../protocol/msgpack-parser.js';
import { accountRequest, signedHandshake, signedRequestHeaders } from '../load/sealpost-identity.js';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface Device {
  id: string;
  handle: string;
  keys: SigningKeyPair;
}

export { ready };

/** base64url of `bytes` random bytes (node:crypto: usable before libsodium is ready). */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

export interface HttpResult {
  status: number;
  body: string;
  headers: IncomingHttpHeaders;
}

export interface HttpCall {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Source address of the TCP connection (a "client IP" as the relay sees it). */
  localAddress?: string;
  timeoutMs?: number;
}

/** One HTTP request on a fresh connection (no keep-alive: nothing is shared between calls). */
export function http(url: string, c: HttpCall): Promise<HttpResult> {
  const target = new URL(c.path, url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: c.method,
        headers: { ...(c.body !== undefined ? { 'content-length': String(Buffer.byteLength(c.body)) } : {}), ...c.headers },
        agent: false,
        ...(c.localAddress ? { localAddress: c.localAddress } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.setTimeout(c.timeoutMs ?? 10_000, () => req.destroy(new Error(`timeout after ${c.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    if (c.body !== undefined) req.write(c.body);
    req.end();
  });
}

/** The error code of a `{error:{code}}` body, or the status when there is none. */
export function codeOf(result: HttpResult): string {
  try {
    const parsed = JSON.parse(result.body) as { error?: { code?: string } };
    if (parsed.error?.code) return `${result.status} ${parsed.error.code}`;
  } catch {
    /* not JSON */
  }
  return String(result.status);
}

/** The three signed-request headers (plus x-sealpost-device-id when `nameDevice`) over `host` of `url`. */
export function signedHeaders(url: string, keys: SigningKeyPair, method: string, path: string, body: Uint8Array, nameDevice?: string): Record<string, string> {
  return { ...signedRequestHeaders(url, keys.privateKey, method, path, body), ...(nameDevice ? { [HEADER_DEVICE_ID]: nameDevice } : {}) };
}

/** A signed request by `keys`; `body` is JSON-encoded. */
export function signedCall(url: string, keys: SigningKeyPair, c: { method: string; path: string; body?: unknown; nameDevice?: string; localAddress?: string; headers?: Record<string, string> }): Promise<HttpResult> {
  const raw = c.body === undefined ? '' : JSON.stringify(c.body);
  const headers = { ...signedHeaders(url, keys, c.method, c.path, utf8(raw), c.nameDevice), ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}), ...c.headers };
  return http(url, { method: c.method, path: c.path, headers, ...(c.body !== undefined ? { body: raw } : {}), ...(c.localAddress ? { localAddress: c.localAddress } : {}) });
}

const runTag = randomBytes(3).toString('hex');
let counter = 0;

export function newHandle(prefix: string): string {
  return `${prefix}${runTag}.${process.pid}.${counter++}`.slice(0, 32);
}

/** The body of `POST /v2/accounts` for a new account with one device and `oneTimePrekeys` one-time prekeys. */
export function newAccount(prefix: string, oneTimePrekeys = 0): { device: Device; request: CreateAccountRequest } {
  const handle = newHandle(prefix);
  const { request, deviceKey } = accountRequest(handle, oneTimePrekeys);
  return { device: { id: request.device.deviceId, handle, keys: deviceKey }, request };
}

/** Registers a new account with one device; throws unless 201. */
export async function register(url: string, prefix: string, o: { localAddress?: string; oneTimePrekeys?: number; headers?: Record<string, string> } = {}): Promise<Device> {
  const { device, request } = newAccount(prefix, o.oneTimePrekeys ?? 0);
  const result = await signedCall(url, device.keys, { method: 'POST', path: '/v2/accounts', body: request, ...o });
  if (result.status !== 201) throw new Error(`registration refused: ${codeOf(result)} ${result.body.slice(0, 200)}`);
  return device;
}

/** A fresh signed handshake (nonces are single-use: one per connection attempt). */
export function handshakeAuth(url: string, device: Device): HandshakeAuth {
  return signedHandshake(url, device.id, device.keys.privateKey);
}

/**
 * A socket on the relay's wire (msgpack, WebSocket only, no reconnection), connected and
 * authenticated; rejects with the connect_error message (the refusal code). `before` runs
 * before the handshake (attach listeners there: the relay pushes right after connecting).
 */
export function connect(url: string, device: Device, o: { localAddress?: string; timeoutMs?: number; extraHeaders?: Record<string, string>; before?: (socket: ClientSocket) => void } = {}): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    timeout: o.timeoutMs ?? 5000,
    parser: msgpackParser,
    auth: (cb) => cb({ ...handshakeAuth(url, device) }),
    ...(o.extraHeaders ? { extraHeaders: o.extraHeaders } : {}),
    ...(o.localAddress ? ({ localAddress: o.localAddress } as object) : {}),
  });
  o.before?.(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

/** `emit` with an ack, bounded in time; rejects on timeout. */
export function emitWithAck<T>(socket: ClientSocket, event: 'send' | 'ack', payload: unknown, timeoutMs = 10_000): Promise<T> {
  const s = socket as unknown as { timeout(ms: number): { emitWithAck(ev: string, a: unknown): Promise<T> } };
  return s.timeout(timeoutMs).emitWithAck(event, payload);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Counts outcomes by label. */
export class Tally {
  readonly counts: Record<string, number> = {};
  add(label: string, n = 1): void {
    this.counts[label] = (this.counts[label] ?? 0) + n;
  }
  get(label: string): number {
    return this.counts[label] ?? 0;
  }
  /** Sum of the labels starting with `prefix`. */
  sum(prefix: string): number {
    return Object.entries(this.counts)
      .filter(([k]) => k.startsWith(prefix))
      .reduce((a, [, v]) => a + v, 0);
  }
}

/** Runs `worker` in `concurrency` loops until `until` (performance.now()) or `max` calls in all. */
export async function flood(concurrency: number, until: number, max: number, worker: (i: number) => Promise<void>): Promise<number> {
  let started = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (started < max && performance.now() < until) {
        await worker(started++);
      }
    }),
  );
  return started;
}

/** A short text for an error. */
export function errorText(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e?.code ?? e?.message ?? String(error);
}
