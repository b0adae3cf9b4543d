/**
 * The relay's VAPID key pair (RFC 8292): a P-256 key the relay signs every push request with,
 * whose public half browsers bind a subscription to (`applicationServerKey`). A push service
 * accepts a push for a subscription only when it is signed by that key, so the key must outlive
 * restarts (a new one would orphan every subscription) and every node of a cluster must use the
 * same one. It is made once, on first start, and kept with the relay's data: in a file beside
 * the SQLite database, readable by the relay's user only (this file), or in PostgreSQL.
 *
 * The private key signs push requests and nothing else: whoever holds it can make push services
 * wake this relay's subscribers with empty pushes, never read or forge a message.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createECDH } from 'node:crypto';
import { dirname } from 'node:path';
import webpush from 'web-push';

export interface VapidKeys {
  /** Uncompressed P-256 point, unpadded base64url (87 characters): GET /v2/push/key. */
  publicKey: string;
  /** The 32-byte private scalar, unpadded base64url. */
  privateKey: string;
}

export class VapidKeyError extends Error {
  override readonly name = 'VapidKeyError';
}

export function newVapidKeys(): VapidKeys {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  return { publicKey, privateKey };
}

/** Whether `value` is a key pair whose public half belongs to its private half. */
export function isVapidKeys(value: unknown): value is VapidKeys {
  if (typeof value !== 'object' || value === null) return false;
  const { publicKey, privateKey } = value as Record<string, unknown>;
  if (typeof publicKey !== 'string' || typeof privateKey !== 'string') return false;
  const priv = Buffer.from(privateKey, 'base64url');
  if (priv.length !== 32 || priv.toString('base64url') !== privateKey) return false;
  try {
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(priv);
    return ecdh.getPublicKey('base64url', 'uncompressed') === publicKey;
  } catch {
    return false;
  }
}

/** Where the embedded relay keeps its key pair for a database at `db`. */
export function vapidPath(db: string): string {
  return `${db}-vapid`;
}

/**
 * The key pair in `path`, made and written there (0600, synced, then renamed into place) when
 * the file does not exist. A file that exists but does not hold a valid pair is an error, never
 * replaced: a new key would silently end every device's push subscription.
 */
export function loadOrCreateVapidFile(path: string): VapidKeys {
  if (existsSync(path)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(path, 'utf8'));
    } catch (cause) {
      throw new VapidKeyError(`${path} cannot be read as the relay's VAPID key pair; restore it from a backup, or delete it to make a new one (every push subscription then ends)`, { cause });
    }
    if (!isVapidKeys(parsed)) throw new VapidKeyError(`${path} does not hold a valid VAPID key pair; restore it from a backup, or delete it to make a new one (every push subscription then ends)`);
    return { publicKey: parsed.publicKey, privateKey: parsed.privateKey };
  }
  const keys = newVapidKeys();
  const temporary = `${path}.${process.pid}.tmp`;
  // Created 0600 from the start (never briefly readable by others), and exclusively.
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(keys)}\n`);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temporary);
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
  // The rename itself survives a power loss once the folder is synced.
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  return keys;
}
