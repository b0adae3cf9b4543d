/**
 * Test-side identities and signed calls against a real relay, protocol v2: accounts (an
 * authority key that signs device lists, devices whose own keys sign their prekeys, one-time
 * prekeys), signed HTTP requests (device keys only), and authenticated socket.io-client sockets.
 * Everything is signed with crypto/ exactly as a client would.
 *
 *   const alice = await makeAccount({ devices: 2 });
 *   await registerAll(relay.url, alice);    // first device with list v1, then addDevice (v2, v3…)
 *   const socket = await connectDevice(relay.url, alice.devices[0]!);
 *   await publishList(relay.url, alice, listWithout(alice, [alice.devices[1]!.id]));   // removal
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { signDeviceList } from '../../crypto/device-list.js';
import { toBase64Url } from '../../crypto/encoding.js';
import { deviceIdOf, generateDhKeyPair, generateSigningKeyPair, type SigningKeyPair } from '../../crypto/keys.js';
import { ready, sodium } from '../../crypto/sodium.js';
import { signHandshake, signRequest, signSignedPrekey } from '../../crypto/statements.js';
import type { ClientToServerEvents, HandshakeAuth, ServerToClientEvents } from '../../protocol/events.js';
import { msgpackParser } from '../../protocol/msgpack-parser.js';
import { PROTOCOL_VERSION, type DeviceRegistrationJson, type OneTimePrekeyJson, type SignedDeviceListJson, type SignedPrekeyJson } from '../../protocol/http.js';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestDevice {
  id: string;
  handle: string;
  keys: SigningKeyPair;
  /** When the device was made: its `createdAt` in every device list that names it. */
  createdAt: number;
  signedPrekey: SignedPrekeyJson & { privateKey: Uint8Array };
  oneTimePrekeys: (OneTimePrekeyJson & { privateKey: Uint8Array })[];
}

export interface TestAccount {
  handle: string;
  /** The authority: the only key that signs device lists. */
  identity: SigningKeyPair;
  identityKey: string;
  devices: TestDevice[];
  /** The last device list a helper here got accepted (registerAccount, addDevice, publishList). */
  list?: SignedDeviceListJson;
}

let handleCounter = 0;
export function uniqueHandle(prefix = 'user'): string {
  handleCounter += 1;
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${handleCounter}`.slice(0, 32).toLowerCase();
}

export function randomId(bytes = 16): string {
  return toBase64Url(sodium().randombytes_buf(bytes));
}

export function makeDevice(account: Pick<TestAccount, 'handle'>, options: { oneTimePrekeys?: number; firstKeyId?: number } = {}): TestDevice {
  const keys = generateSigningKeyPair();
  const spk = generateDhKeyPair();
  const signedPrekey = {
    keyId: 1,
    publicKey: toBase64Url(spk.publicKey),
    // v2: the device's own key signs its prekeys.
    signature: toBase64Url(signSignedPrekey({ devicePublicKey: keys.publicKey, keyId: 1, publicKey: spk.publicKey }, keys.privateKey)),
    privateKey: spk.privateKey,
  };
  const first = options.firstKeyId ?? 1;
  const oneTimePrekeys = Array.from({ length: options.oneTimePrekeys ?? 5 }, (_, i) => {
    const k = generateDhKeyPair();
    return { keyId: first + i, publicKey: toBase64Url(k.publicKey), privateKey: k.privateKey };
  });
  return { id: deviceIdOf(keys.publicKey), handle: account.handle, keys, createdAt: Date.now(), signedPrekey, oneTimePrekeys };
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
    signedPrekey: { keyId: device.signedPrekey.keyId, publicKey: device.signedPrekey.publicKey, signature: device.signedPrekey.signature },
    oneTimePrekeys: device.oneTimePrekeys.map(({ keyId, publicKey }) => ({ keyId, publicKey })),
  };
}

type ListEntry = Pick<TestDevice, 'id' | 'createdAt'>;

/** A device list of these devices signed by the account's authority (or `signWith`, to forge one). */
export function signList(account: Pick<TestAccount, 'handle' | 'identity'>, devices: readonly ListEntry[], version: number, o: { handle?: string; signWith?: Uint8Array; time?: number } = {}): SignedDeviceListJson {
  const time = o.time ?? Date.now();
  return signDeviceList(
    { handle: o.handle ?? account.handle, version, time, devices: devices.map((d) => ({ deviceId: d.id, createdAt: Math.min(d.createdAt, time) })) },
    o.signWith ?? account.identity.privateKey,
  );
}

const entriesOf = (list: SignedDeviceListJson | undefined): ListEntry[] => (list?.devices ?? []).map((d) => ({ id: d.deviceId, createdAt: d.createdAt }));

/** The next list (version + 1): the last accepted one plus `added`. */
export function listWith(account: TestAccount, added: readonly ListEntry[]): SignedDeviceListJson {
  const kept = entriesOf(account.list).filter((d) => !added.some((a) => a.id === d.id));
  return signList(account, [...kept, ...added], (account.list?.version ?? 0) + 1);
}

/** The next list (version + 1): the last accepted one without these device ids. */
export function listWithout(account: TestAccount, removed: readonly string[]): SignedDeviceListJson {
  return signList(account, entriesOf(account.list).filter((d) => !removed.includes(d.id)), (account.list?.version ?? 0) + 1);
}

export interface SignedCall {
  method: string;
  path: string;
  /** An object is JSON-encoded; a string is sent as the raw body; undefined sends no body. */
  body?: unknown;
  /** Signs the request (x-sealpost-device-signature). */
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
  if (c.device) {
    headers['x-sealpost-timestamp'] = String(timestamp);
    headers['x-sealpost-nonce'] = nonce;
    headers['x-sealpost-device-signature'] = toBase64Url(signRequest(fields, c.device.privateKey));
  }
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

/** Creates the account with `device` and list version 1 naming it (or the list given). */
export async function registerAccount(url: string, account: TestAccount, device: TestDevice = account.devices[0]!, list = signList(account, [device], 1)): Promise<CallResult> {
  const result = await call(url, {
    method: 'POST',
    path: '/v2/accounts',
    body: { handle: account.handle, identityKey: account.identityKey, device: registration(device), deviceList: list },
    device: device.keys,
  });
  if (result.status === 201) account.list = list;
  return result;
}

/** Adds `device`, signed by its own key, with the next list (the last one plus it) or the list given. */
export async function addDevice(url: string, account: TestAccount, device: TestDevice, list = listWith(account, [device])): Promise<CallResult> {
  const result = await call(url, { method: 'POST', path: `/v2/accounts/${account.handle}/devices`, body: { device: registration(device), deviceList: list }, device: device.keys });
  if (result.status === 201) account.list = list;
  return result;
}

/** PUT /v2/accounts/:handle/device-list (not a signed request: the list carries its signature). */
export async function publishList(url: string, account: TestAccount, list: SignedDeviceListJson): Promise<CallResult> {
  const result = await call(url, { method: 'PUT', path: `/v2/accounts/${account.handle}/device-list`, body: { deviceList: list } });
  if (result.status === 200) account.list = list;
  return result;
}

/** A bundle claim signed by `requester` (a device key), naming it in x-sealpost-device-id. */
export async function claimBundle(url: string, requester: Pick<TestDevice, 'id' | 'keys'>, targetId: string, headers: Record<string, string> = {}): Promise<CallResult> {
  return call(url, { method: 'POST', path: `/v2/devices/${targetId}/bundle`, device: requester.keys, headers: { 'x-sealpost-device-id': requester.id, ...headers } });
}

/** The headers of a lookup of `handle` signed by `requester`, for tests that send with their own fetch. */
export function lookupHeaders(url: string, requester: Pick<TestDevice, 'id' | 'keys'>, handle: string): Record<string, string> {
  const timestamp = Date.now();
  const nonce = randomId();
  const fields = { relayHost: new URL(url).host, method: 'GET', path: `/v2/accounts/${handle}`, timestamp, nonce, body: new Uint8Array(0) };
  return {
    'x-sealpost-device-id': requester.id,
    'x-sealpost-timestamp': String(timestamp),
    'x-sealpost-nonce': nonce,
    'x-sealpost-device-signature': toBase64Url(signRequest(fields, requester.keys.privateKey)),
  };
}

/** GET /v2/accounts/:handle, signed by `requester` (a registered device), naming it in x-sealpost-device-id. */
export async function lookup(url: string, requester: Pick<TestDevice, 'id' | 'keys'>, handle: string, headers: Record<string, string> = {}): Promise<CallResult> {
  return call(url, { method: 'GET', path: `/v2/accounts/${handle}`, device: requester.keys, headers: { 'x-sealpost-device-id': requester.id, ...headers } });
}

/** A freshly registered account's device, to sign lookups with. */
export async function registeredDevice(url: string, prefix = 'reader'): Promise<TestDevice> {
  const account = await makeAccount({ handle: uniqueHandle(prefix) });
  await registerAll(url, account);
  return account.devices[0]!;
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
  return { v: PROTOCOL_VERSION, deviceId: device.id, timestamp, nonce, signature };
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
    const refused = (error: Error) => {
      socket.off('disconnect', closed);
      socket.close();
      reject(error);
    };
    // The relay closes, without a code, a connection whose handshake packet it cannot decode
    // (docs/relay-api.md): that rejects too, instead of waiting for ever.
    const closed = (reason: string) => refused(new Error(`${CLOSED_BEFORE_CONNECTING}: ${reason}`));
    socket.once('connect', () => {
      socket.off('disconnect', closed);
      resolve(socket);
    });
    socket.once('connect_error', refused);
    socket.once('disconnect', closed);
  });
}

/** How connectWith's rejection starts when the relay closed the connection before answering the handshake. */
export const CLOSED_BEFORE_CONNECTING = 'closed before connecting';

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
