/**
 * This account's own devices, seen from the device holding the authority: approving a link
 * (and revoking one that was never confirmed), removing a device, and listing the devices with
 * the names given on own devices. Every change signs on top of the newest verified list.
 */
import { listRenewed, listWithout, requireAuthority } from './account-authority.js';
import { SdkError } from './errors.js';
import * as registration from './registration.js';
import type { RelayHttp } from './relay-http.js';
import type { LocalStore } from './store/local-store.js';
import type { AccountRecord, ContactRecord } from './store/records.js';

export interface OwnDevice {
  deviceId: string;
  createdAt: number;
  /** The name the user gave it on one of this account's devices, if any. */
  name?: string;
  current: boolean;
}

/** What the client lends these steps. */
export interface OwnDevicesHost {
  store: LocalStore;
  account(): AccountRecord;
  http(): RelayHttp;
  lookup(handle: string): Promise<ContactRecord>;
  /** Resolves when the device announces itself (its `linked` content arrived). */
  confirmation(deviceId: string): Promise<unknown>;
}

/**
 * Adds the device that shows `code` to the account's list and resolves with its id only once
 * that device confirmed; on a timeout the link is revoked and `link_timeout` thrown.
 */
export async function approveLink(host: OwnDevicesHost, code: string, timeoutMs: number): Promise<string> {
  requireAuthority(host.account());
  await host.lookup(host.account().handle); // sign on top of the newest list
  const { deviceId } = await registration.approveLink(host.account(), host.http(), code);
  const confirmed = host.confirmation(deviceId);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SdkError('link_timeout', 'the new device did not confirm the link')), timeoutMs);
  });
  try {
    await Promise.race([confirmed, timeout]);
  } catch (error) {
    await revokeLink(host, deviceId);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return deviceId;
}

/**
 * A link that was never confirmed must not stay usable: the new device holds a signed list
 * naming it. Publish a newer list without it (if it registered, that removes it; if not, its
 * list can no longer be registered, since the version must increase).
 */
async function revokeLink(host: OwnDevicesHost, deviceId: string): Promise<void> {
  await host.lookup(host.account().handle);
  const account = host.account();
  const listed = account.deviceList.devices.some((d) => d.deviceId === deviceId);
  await host.http().publishDeviceList(account.handle, { deviceList: listed ? listWithout(account, deviceId) : listRenewed(account) });
  await host.lookup(account.handle);
}

/**
 * Removes a device: publishes the next device list without it. The relay drops the device, its
 * queue and its sockets; our sessions with it go in the same lookup that verifies the new list,
 * so nothing is sealed to it again.
 */
export async function removeDevice(host: OwnDevicesHost, deviceId: string): Promise<void> {
  requireAuthority(host.account());
  await host.lookup(host.account().handle); // sign on top of the newest list
  const account = host.account();
  await host.http().publishDeviceList(account.handle, { deviceList: listWithout(account, deviceId) });
  await host.lookup(account.handle);
}

/** The devices of the account's verified list, with the names given on own devices. */
export async function listDevices(host: OwnDevicesHost): Promise<OwnDevice[]> {
  const account = host.account();
  const self = await host.lookup(account.handle);
  return self.devices.map((d) => {
    const name = host.store.get('deviceNames', d.deviceId)?.name;
    return { ...d, current: d.deviceId === account.deviceId, ...(name === undefined ? {} : { name }) };
  });
}

