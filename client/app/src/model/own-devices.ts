/**
 * This account's own devices as the app shows them: the verified list with the names given on
 * own devices, renaming, removing (authority device only), the recovery key, and approving a
 * link. An approval is kept here, not in a component, so leaving the Devices screen while the
 * new device is still confirming does not lose its outcome.
 */
import { SdkError, type OwnDevice, type SealpostClient } from '../../../sdk/index.js';
import type { AppMemory } from './app-memory.js';
import { describeError } from './describe-error.js';
import { deviceNameProblem, suggestDeviceName, thisPlatform } from './device-name.js';
import { linkCodeProblem } from './link-code.js';

/** How long a link code shown on a new device stays good (the SDK waits as long to approve). */
export const LINK_CODE_LIFETIME_MS = 10 * 60_000;

export type LinkApproval =
  | { state: 'waiting' }
  | { state: 'linked'; deviceId: string }
  | { state: 'failed'; message: string; timedOut: boolean };

/** "Unnamed device · 1a2b3c4d" when no own device named it. */
export function deviceLabel(deviceId: string, name: string | undefined): string {
  return name ?? `Unnamed device · ${deviceId.slice(0, 8)}`;
}

export class OwnDevices {
  /** Bumped whenever the list or its names may have changed: views reload on it. */
  revision = 0;
  approval: LinkApproval | undefined;

  constructor(private readonly client: SealpostClient, private readonly memory: AppMemory, private readonly changed: () => void) {}

  /** Wires the SDK events that change what the Devices screen shows (once, on start). */
  listen(): void {
    const bump = () => {
      this.revision++;
    };
    this.client.on('devices_changed', (change) => change.own && bump());
    this.client.on('device_names', bump);
    this.client.on('device_linked', bump);
  }

  get hasAuthority(): boolean {
    return this.client.hasAuthority;
  }

  /** From the last list this device verified (no network): for decisions like the erase warning. */
  knownCount(): number {
    return this.client.account?.deviceList.devices.length ?? 0;
  }

  /** A fresh, verified lookup of our own list. */
  list(): Promise<OwnDevice[]> {
    return this.client.devices();
  }

  nameOf(deviceId: string): string | undefined {
    return this.client.store.get('deviceNames', deviceId)?.name;
  }

  labelOf(deviceId: string): string {
    return deviceLabel(deviceId, this.nameOf(deviceId));
  }

  async rename(deviceId: string, name: string): Promise<void> {
    await this.client.setDeviceName(deviceId, name);
    this.revision++;
    this.changed();
  }

  /** What this browser suggests calling itself ("Chromium on Linux"). */
  suggestedName(): string {
    return suggestDeviceName(thisPlatform());
  }

  /**
   * Names the device this app runs on, right after it joined the account (registered, linked or
   * recovered): the name the user chose, or the suggestion. Only then, never on a later start:
   * a rename made meanwhile on another device must not be overwritten by a default. Best effort:
   * if it fails the device is unnamed until someone names it under Devices.
   */
  async nameThisDevice(chosen?: string): Promise<void> {
    const deviceId = this.client.deviceId;
    if (!deviceId || this.nameOf(deviceId) !== undefined) return;
    const name = chosen !== undefined && deviceNameProblem(chosen) === undefined ? chosen : this.suggestedName();
    await this.client.setDeviceName(deviceId, name).then(
      () => {
        this.revision++;
        this.changed();
      },
      () => undefined,
    );
  }

  async remove(deviceId: string): Promise<void> {
    await this.client.removeDevice(deviceId);
    this.revision++;
    this.changed();
  }

  /** The recovery key (authority device only); remembers that the user has seen it. */
  recoveryKey(): string {
    const key = this.client.recoveryKey();
    this.memory.markRecoveryKeySeen();
    this.changed(); // the top bar's reminder goes
    return key;
  }

  recoveryKeySeenAt(): number | undefined {
    return this.memory.recoveryKeySeenAt();
  }

  /** Adds the device showing `code`; the outcome lands in `approval` once that device confirmed. */
  async approveLink(code: string): Promise<void> {
    if (this.approval?.state === 'waiting') return;
    // A mistyped code is answered here, in words, without asking the relay anything.
    const problem = linkCodeProblem(code);
    if (problem) {
      this.approval = { state: 'failed', timedOut: false, message: problem };
      this.changed();
      return;
    }
    this.approval = { state: 'waiting' };
    this.changed();
    try {
      const deviceId = await this.client.approveLink(code, { timeoutMs: LINK_CODE_LIFETIME_MS });
      this.approval = { state: 'linked', deviceId };
      this.revision++;
    } catch (error) {
      const timedOut = error instanceof SdkError && error.code === 'link_timeout';
      this.approval = {
        state: 'failed',
        timedOut,
        message: timedOut
          ? 'The new device did not confirm within 10 minutes, so it was not linked and its code no longer works. Start linking again on the new device and enter the new code it shows.'
          : describeError(error),
      };
    }
    this.changed();
  }

  clearApproval(): void {
    if (this.approval?.state === 'waiting') return;
    this.approval = undefined;
    this.changed();
  }
}
