/**
 * The directory half of the SQLite store: accounts, devices and their prekeys. Plain SQLite
 * transactions; a write resolves once durable (`onceDurable`, the store's WAL sync). The queue
 * half (envelopes, the queue log, checkpoints) stays in sqlite-store.ts, which also removes
 * devices: that empties their queues.
 */
import Database from 'better-sqlite3';
import type { AccountRecord, AddDeviceOutcome, BundleRecord, DeviceRecord, OneTimePrekeyRecord, SignedPrekeyRecord } from '../store.js';
import type { SQL } from './sql.js';

export type Statements = { [K in keyof typeof SQL]: Database.Statement };

interface DeviceRow {
  device_id: string;
  handle: string;
  cert_created_at: number;
  cert_signature: string;
  spk_key_id: number;
  spk_public_key: string;
  spk_signature: string;
  next_seq: number;
}

function toDevice(row: DeviceRow): DeviceRecord {
  return {
    deviceId: row.device_id,
    handle: row.handle,
    certificate: { createdAt: row.cert_created_at, signature: row.cert_signature },
    signedPrekey: { keyId: row.spk_key_id, publicKey: row.spk_public_key, signature: row.spk_signature },
  };
}

export class Directory {
  constructor(
    private readonly db: Database.Database,
    private readonly s: Statements,
    private readonly onceDurable: <T>(result: T) => Promise<T>,
  ) {}

  private insertDevice(device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[]): void {
    const { certificate: c, signedPrekey: p } = device;
    this.s.insertDevice.run(device.deviceId, device.handle, c.createdAt, c.signature, p.keyId, p.publicKey, p.signature);
    for (const k of oneTimePrekeys) this.s.insertOneTimePrekey.run(device.deviceId, k.keyId, k.publicKey);
  }

  async createAccount(account: AccountRecord, device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<boolean> {
    try {
      this.db.transaction(() => {
        this.s.insertAccount.run(account.handle, account.identityKey);
        this.insertDevice(device, oneTimePrekeys);
      })();
    } catch (error) {
      if (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT')) return false;
      throw error;
    }
    return this.onceDurable(true);
  }

  async getAccount(handle: string): Promise<AccountRecord | undefined> {
    const row = this.s.getAccount.get(handle) as { handle: string; identity_key: string } | undefined;
    return row && { handle: row.handle, identityKey: row.identity_key };
  }

  async listDevices(handle: string): Promise<DeviceRecord[]> {
    return (this.s.listDevices.all(handle) as DeviceRow[]).map(toDevice);
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    const row = this.s.getDevice.get(deviceId) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  async addDevice(device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[], maxDevices: number): Promise<AddDeviceOutcome> {
    const outcome = this.db.transaction((): AddDeviceOutcome => {
      if (!this.s.getAccount.get(device.handle)) return 'no_account';
      if (this.s.getDevice.get(device.deviceId)) return 'conflict';
      const { n } = this.s.countDevices.get(device.handle) as { n: number };
      if (n >= maxDevices) return 'quota_exceeded';
      this.insertDevice(device, oneTimePrekeys);
      return 'added';
    }).immediate();
    return outcome === 'added' ? this.onceDurable(outcome) : outcome;
  }

  async claimBundle(deviceId: string): Promise<BundleRecord | undefined> {
    // A claimed one-time prekey must stay claimed: it is never handed out twice.
    return this.onceDurable(this.db.transaction((): BundleRecord | undefined => {
      const row = this.s.getDevice.get(deviceId) as DeviceRow | undefined;
      if (!row) return undefined;
      const account = this.s.getAccount.get(row.handle) as { handle: string; identity_key: string };
      const otp = this.s.oldestOneTimePrekey.get(deviceId) as { inserted: number; key_id: number; public_key: string } | undefined;
      if (otp) this.s.deleteOneTimePrekey.run(otp.inserted);
      const { n } = this.s.countOneTimePrekeys.get(deviceId) as { n: number };
      return {
        account: { handle: account.handle, identityKey: account.identity_key },
        device: toDevice(row),
        oneTimePrekey: otp && { keyId: otp.key_id, publicKey: otp.public_key },
        remaining: n,
      };
    }).immediate());
  }

  async putPrekeys(deviceId: string, signedPrekey: SignedPrekeyRecord | undefined, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<number> {
    return this.onceDurable(this.db.transaction(() => {
      if (signedPrekey) this.s.rotateSignedPrekey.run(signedPrekey.keyId, signedPrekey.publicKey, signedPrekey.signature, deviceId);
      for (const k of oneTimePrekeys) this.s.insertOneTimePrekey.run(deviceId, k.keyId, k.publicKey);
      return (this.s.countOneTimePrekeys.get(deviceId) as { n: number }).n;
    })());
  }

  async countOneTimePrekeys(deviceId: string): Promise<number> {
    return (this.s.countOneTimePrekeys.get(deviceId) as { n: number }).n;
  }
}
