/**
 * The directory half of the SQLite store: accounts with their device lists, devices and their
 * prekeys. Plain SQLite transactions; a write resolves once durable (`onceDurable`, the store's
 * WAL sync). The queue half stays in sqlite-tables.ts (and the queue log layer in front of it):
 * a device list that leaves devices out deletes them here, and the store passes `dropQueue`
 * so that their queues leave its bookkeeping in the same transaction.
 */
import Database from 'better-sqlite3';
import type { SignedDeviceListJson } from '../../../protocol/http.js';
import type {
  AccountRecord,
  AddDeviceOutcome,
  BundleRecord,
  DeviceListRefusal,
  DeviceRecord,
  OneTimePrekeyRecord,
  PublishDeviceListOutcome,
  SignedPrekeyRecord,
} from '../store.js';
import { listJson, toAccount, toBundle, toDevice, type AccountRow, type DeviceRow, type OneTimePrekeyRow } from '../row-mapping.js';
import type { SQL } from './sql.js';

export type Statements = { [K in keyof typeof SQL]: Database.Statement };

/** Called inside a transaction, before a device's row (and by cascade its queue rows) is deleted. */
export type DropQueue = (deviceId: string) => void;

export class Directory {
  constructor(
    private readonly db: Database.Database,
    private readonly s: Statements,
    private readonly onceDurable: <T>(result: T) => Promise<T>,
  ) {}

  private insertDevice(device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[]): void {
    const p = device.signedPrekey;
    this.s.insertDevice.run(device.deviceId, device.handle, p.keyId, p.publicKey, p.signature);
    for (const k of oneTimePrekeys) this.s.insertOneTimePrekey.run(device.deviceId, k.keyId, k.publicKey);
  }

  /**
   * Inside a transaction: what every new list of `handle` must pass against what is stored —
   * a higher version, and no device other than `joining` that is not registered to the account.
   * Returns the account's registered device ids.
   */
  private admitList(handle: string, list: SignedDeviceListJson, joining: string | undefined): DeviceListRefusal | { registered: string[] } {
    const row = this.s.getAccount.get(handle) as AccountRow | undefined;
    if (!row) return { status: 'no_account' };
    const current = toAccount(row).deviceList.version;
    if (list.version <= current) return { status: 'stale_version', current };
    const registered = (this.s.listDevices.all(handle) as DeviceRow[]).map((d) => d.device_id);
    const known = new Set(registered);
    const stranger = list.devices.find((d) => d.deviceId !== joining && !known.has(d.deviceId));
    if (stranger) return { status: 'unregistered_device', deviceId: stranger.deviceId };
    return { registered };
  }

  /** Inside a transaction: stores the list and deletes the registered devices it leaves out. */
  private replaceList(handle: string, list: SignedDeviceListJson, registered: readonly string[], dropQueue: DropQueue): string[] {
    this.s.setDeviceList.run(listJson(list), handle);
    const listed = new Set(list.devices.map((d) => d.deviceId));
    const removed = registered.filter((id) => !listed.has(id));
    for (const deviceId of removed) {
      dropQueue(deviceId);
      // ON DELETE CASCADE removes the device's one-time prekeys and queued envelopes.
      this.s.deleteDevice.run(deviceId, handle);
    }
    return removed;
  }

  async createAccount(account: AccountRecord, device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<boolean> {
    try {
      this.db.transaction(() => {
        this.s.insertAccount.run(account.handle, account.identityKey, listJson(account.deviceList));
        this.insertDevice(device, oneTimePrekeys);
      })();
    } catch (error) {
      if (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT')) return false;
      throw error;
    }
    return this.onceDurable(true);
  }

  async getAccount(handle: string): Promise<AccountRecord | undefined> {
    const row = this.s.getAccount.get(handle) as AccountRow | undefined;
    return row && toAccount(row);
  }

  async listDevices(handle: string): Promise<DeviceRecord[]> {
    return (this.s.listDevices.all(handle) as DeviceRow[]).map(toDevice);
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    const row = this.s.getDevice.get(deviceId) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  /** Synchronous: the caller (sqlite-tables.ts) settles the removed queues and waits for durability. */
  addDevice(device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[], list: SignedDeviceListJson, maxDevices: number, dropQueue: DropQueue): AddDeviceOutcome {
    return this.db.transaction((): AddDeviceOutcome => {
      const admitted = this.admitList(device.handle, list, device.deviceId);
      if ('status' in admitted) return admitted;
      if (this.s.getDevice.get(device.deviceId)) return { status: 'conflict' };
      if (list.devices.length > maxDevices) return { status: 'quota_exceeded' };
      this.insertDevice(device, oneTimePrekeys);
      return { status: 'added', removed: this.replaceList(device.handle, list, admitted.registered, dropQueue) };
    }).immediate();
  }

  /** Synchronous, like addDevice. */
  publishDeviceList(handle: string, list: SignedDeviceListJson, dropQueue: DropQueue): PublishDeviceListOutcome {
    return this.db.transaction((): PublishDeviceListOutcome => {
      const admitted = this.admitList(handle, list, undefined);
      if ('status' in admitted) return admitted;
      return { status: 'published', removed: this.replaceList(handle, list, admitted.registered, dropQueue) };
    }).immediate();
  }

  async claimBundle(deviceId: string): Promise<BundleRecord | undefined> {
    // A claimed one-time prekey must stay claimed: it is never handed out twice.
    return this.onceDurable(this.db.transaction((): BundleRecord | undefined => {
      const row = this.s.getDevice.get(deviceId) as DeviceRow | undefined;
      if (!row) return undefined;
      const account = this.s.getAccount.get(row.handle) as AccountRow;
      const otp = this.s.oldestOneTimePrekey.get(deviceId) as (OneTimePrekeyRow & { inserted: number }) | undefined;
      if (otp) this.s.deleteOneTimePrekey.run(otp.inserted);
      const { n } = this.s.countOneTimePrekeys.get(deviceId) as { n: number };
      return toBundle(account, row, otp, n);
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
