/**
 * Test helpers for SDK suites: real clients with file-backed profiles in a temp dir, a log of
 * what each one saw, and polling waits (bounded, so a stuck scenario fails instead of hanging).
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilePersistence, SealpostClient, type MessageEvent } from '../../client/sdk/node.js';

/**
 * Sends raw envelopes over a registered client's authenticated socket: what any sender — or the
 * relay itself — can put in a device's queue (a replay, a reordered copy).
 */
export function rawSend(client: SealpostClient, envelopes: Array<{ to: string; id: string; body: Uint8Array }>): Promise<{ ok: boolean }> {
  const internals = client as unknown as { context(): { connection: { send(e: typeof envelopes): Promise<{ ok: boolean }> } } };
  return internals.context().connection.send(envelopes);
}

export interface TestDevice {
  name: string;
  profile: string;
  client: SealpostClient;
  /** Every `message` event, in arrival order. */
  seen: MessageEvent[];
  /** Opens the same profile again (after `client.close()`), reconnecting. */
  reopen(): Promise<TestDevice>;
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function openDevice(name: string, profile: string, seen: MessageEvent[] = [], options: { fetch?: typeof fetch } = {}): Promise<TestDevice> {
  const client = await SealpostClient.open({ persistence: new FilePersistence(profile), reconnectBackoffMs: 100, ...options });
  client.on('message', (event) => seen.push(event));
  const device: TestDevice = {
    name, profile, client, seen,
    reopen: async () => {
      const again = await openDevice(name, profile, seen, options);
      if (again.client.account) again.client.connect();
      return again;
    },
  };
  return device;
}

export async function registerDevice(root: string, relayUrl: string, handle: string, options: { fetch?: typeof fetch } = {}): Promise<TestDevice> {
  const device = await openDevice(handle, join(root, handle), [], options);
  await device.client.register(relayUrl, handle);
  device.client.connect();
  await waitFor(() => device.client.connectionState === 'connected', `${handle} connects`);
  return device;
}

/**
 * Links a new device to `existing` (which must hold the account authority and be connected):
 * resolves once the approval reported success, which it does only after the new device
 * registered and announced itself.
 */
export async function linkDevice(root: string, relayUrl: string, existing: TestDevice, name: string): Promise<TestDevice> {
  const device = await openDevice(name, join(root, name));
  const pending = device.client.startLink(relayUrl, { pollMs: 50 });
  const approved = existing.client.approveLink(pending.code, { timeoutMs: 15_000 });
  await pending.completed;
  device.client.connect();
  await waitFor(() => device.client.connectionState === 'connected', `${name} connects`);
  await approved;
  return device;
}

export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The texts a device saw from `from`, in arrival order. */
export function textsFrom(device: TestDevice, from: string): string[] {
  return device.seen.filter((m) => m.from === from).map((m) => m.text);
}

/** Envelopes the relay holds in its SQLite file (for one device, or all), read from disk. */
export function queuedEnvelopes(dbPath: string, deviceId?: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    const row = deviceId === undefined
      ? db.prepare('SELECT COUNT(*) AS n FROM queue').get()
      : db.prepare('SELECT COUNT(*) AS n FROM queue WHERE device_id = ?').get(deviceId);
    return (row as { n: number }).n;
  } finally {
    db.close();
  }
}
