/**
 * Test-side identities and signed calls against a real relay: accounts (identity key, devices
 * with certificates, signed and one-time prekeys), signed HTTP requests, and authenticated
 * socket.io-client sockets. Everything is signed with crypto/ exactly as a client would.
 *
 *   const alice = await makeAccount({ devices: 2 });
 *   await registerAccount(relay.url, alice);            // first device; then addDevice for the rest
 *   const socket = await connectDevice(relay.url, alice.devices[0]!);
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { toBase64Url } from '../../crypto/encoding.js';
import { deviceIdOf, generateDhKeyPair, generateSigningKeyPair, type SigningKeyPair } from '../../crypto/keys.js';
import { ready, sodium } from '../../crypto/sodium.js';
import { signDeviceCertificate, signHandshake, signRequest, signSignedPrekey } from '../../crypto/statements.js';
import type { ClientToServerEvents, HandshakeAuth, ServerToClientEvents } from '../../server/protocol/events.js';
import { msgpackParser } from '../../server/protocol/msgpack-parser.js';
import type { DeviceRegistrationJson, OneTimePrekeyJson, SignedPrekeyJson } from '../../server/protocol/http.js';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestDevice {
  id: string;
  handle: string;
  keys: SigningKeyPair;
  certificate: { createdAt: number; signature: string };
  signedPrekey: SignedPrekeyJson & { privateKey: Uint8Array };
  oneTimePrekeys: (OneTimePrekeyJson & { privateKey: Uint8Array })[];
}

export interface TestAccount {
  handle: string;
  identity: SigningKeyPair;
  identityKey: string;
  devices: TestDevice[];
}

let handleCounter = 0;
export function uniqueHandle(prefix = 'user'): string {
  handleCounter += 1;
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${handleCounter}`.slice(0, 32).toLowerCase();
}

export function randomId(bytes = 16): string {
  return toBase64Url(sodium().randombytes_buf(bytes));
}

export function makeDevice(account: Pick<TestAccount, 'handle' | 'identity'>, options: { oneTimePrekeys?: number; firstKeyId?: number } = {}): TestDevice {
  const keys = generateSigningKeyPair();
  const createdAt = Date.now();
  const certificate = { createdAt, signature: toBase64Url(signDeviceCertificate({ devicePublicKey: keys.publicKey, handle: account.handle, createdAt }, account.identity.privateKey)) };
  const spk = generateDhKeyPair();
  const signedPrekey = {
    keyId: 1,
    publicKey: toBase64Url(spk.publicKey),
    signature: toBase64Url(signSignedPrekey({ devicePublicKey: keys.publicKey, keyId: 1, publicKey: spk.publicKey }, account.identity.privateKey)),
    privateKey: spk.privateKey,
  };
  const first = options.firstKeyId ?? 1;
  const oneTimePrekeys = Array.from({ length: options.oneTimePrekeys ?? 5 }, (_, i) => {
    const k = generateDhKeyPair();
    return { keyId: first + i, publicKey: toBase64Url(k.publicKey), privateKey: k.privateKey };
  });
  return { id: deviceIdOf(keys.publicKey), handle: account.handle, keys, certificate, signedPrekey, oneTimePrekeys };
}

export async function makeAccount(options: { handle?: string; devices?: number; oneTimePrekeys?: number } = {}): Promise<TestAccount> {
  await ready();
  const identity = generateSigningKeyPair();
  const account: TestAccount = { handle: options.handle ?? uniqueHandle(), identity, identityKey: toBase64Url(identity.publicKey), devices: [] };
  for (let i = 0; i < (options.devices ?? 1); i++) account.devices.push(makeDevice(account, { oneTimePrekeys: options.oneTimePrekeys ?? 5 }));
  return account;
}

/** The JSON a device registers with (public parts only). */
export function registration(device: TestDevice): DeviceRegistrationJson {
  return {
    deviceId: device.id,
    certificate: device.certificate,
    signedPrekey: { keyId: device.signedPrekey.keyId, publicKey: device.signedPrekey.publicKey, signature: device.signedPrekey.signature },
    oneTimePrekeys: device.oneTimePrekeys.map(({ keyId, publicKey }) => ({ keyId, publicKey })),
  };
}

export interface SignedCall {
  method: string;
  path: string;
  /** An object is JSON-encoded; a string is sent as the raw body; undefined sends no body. */
  body?: unknown;
  identity?: SigningKeyPair;
  device?: SigningKeyPair;
  timestamp?: number;
  nonce?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  body: unknown;
  contentType: string | null;
}

/** Sends an HTTP request signed by the given keys over the relay's host, exactly as a client would. */
export async function call(url: string, c: SignedCall): Promise<CallResult> {
  await ready();
  const raw = c.body === undefined ? '' : typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
  const timestamp = c.timestamp ?? Date.now();
  const nonce = c.nonce ?? randomId();
  const headers: Record<string, string> = {};
  if (c.body !== undefined) headers['content-type'] = 'application/json';
  const fields = { relayHost: new URL(url).host, method: c.method, path: c.path, timestamp, nonce, body: new TextEncoder().encode(raw) };
  if (c.identity || c.device) {
    headers['x-sealpost-timestamp'] = String(timestamp);
    headers['x-sealpost-nonce'] = nonce;
  }
  if (c.identity) headers['x-sealpost-identity-signature'] = toBase64Url(signRequest(fields, c.identity.privateKey));
  if (c.device) headers['x-sealpost-device-signature'] = toBase64Url(signRequest(fields, c.device.privateKey));
  Object.assign(headers, c.headers);
  const response = await fetch(url + c.path, { method: c.method, headers, ...(c.body !== undefined ? { body: raw } : {}) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text.length ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON: the test will see the string */
  }
  return { status: response.status, body, contentType: response.headers.get('content-type') };
}

export async function registerAccount(url: string, account: TestAccount, device: TestDevice = account.devices[0]!): Promise<CallResult> {
  return call(url, {
    method: 'POST',
    path: '/v1/accounts',
    body: { handle: account.handle, identityKey: account.identityKey, device: registration(device) },
    identity: account.identity,
    device: device.keys,
  });
}

export async function addDevice(url: string, account: TestAccount, device: TestDevice): Promise<CallResult> {
  return call(url, { method: 'POST', path: `/v1/accounts/${account.handle}/devices`, body: { device: registration(device) }, identity: account.identity, device: device.keys });
}

/** Registers the account's first device and adds the others; throws on any refusal. */
export async function registerAll(url: string, account: TestAccount): Promise<void> {
  const first = await registerAccount(url, account);
  if (first.status !== 201) throw new Error(`register failed: ${first.status} ${JSON.stringify(first.body)}`);
  for (const device of account.devices.slice(1)) {
    const added = await addDevice(url, account, device);
    if (added.status !== 201) throw new Error(`add device failed: ${added.status} ${JSON.stringify(added.body)}`);
  }
}

export function handshakeAuth(url: string, device: Pick<TestDevice, 'id' | 'keys'>, o: { timestamp?: number; nonce?: string; signWith?: Uint8Array; relayHost?: string } = {}): HandshakeAuth {
  const timestamp = o.timestamp ?? Date.now();
  const nonce = o.nonce ?? randomId();
  const relayHost = o.relayHost ?? new URL(url).host;
  const signature = toBase64Url(signHandshake({ relayHost, deviceId: device.id, timestamp, nonce }, o.signWith ?? device.keys.privateKey));
  return { deviceId: device.id, timestamp, nonce, signature };
}

/** A socket (not yet connected) with the given auth, on the relay's msgpack wire; websocket only, no reconnection. */
export function openSocket(url: string, auth: unknown, options: Partial<ManagerOptions & SocketOptions> = {}): ClientSocket {
  return io(url, { auth: auth as Record<string, unknown>, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 5000, parser: msgpackParser, ...options });
}

/**
 * Connects and resolves once authenticated; rejects with the connect_error message (the code).
 * `beforeConnect` runs on the socket before the handshake: attach listeners there, because the
 * relay emits `prekeys` and the backlog right after connecting.
 */
export function connectWith(url: string, auth: unknown, beforeConnect?: (socket: ClientSocket) => void): Promise<ClientSocket> {
  const socket = openSocket(url, auth);
  beforeConnect?.(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

export function connectDevice(url: string, device: Pick<TestDevice, 'id' | 'keys'>, beforeConnect?: (socket: ClientSocket) => void): Promise<ClientSocket> {
  return connectWith(url, handshakeAuth(url, device), beforeConnect);
}

/** The connect_error code for this auth (fails the test if the socket connects). */
export async function refusalCode(url: string, auth: unknown): Promise<string> {
  try {
    const socket = await connectWith(url, auth);
    socket.close();
    return 'connected';
  } catch (error) {
    return (error as Error).message;
  }
}
