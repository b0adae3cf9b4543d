/** Runs the prekey policy against the relay: replenish one-time prekeys, rotate the signed prekey. */
import { deviceSigner } from './local-identity.js';
import {
  MAX_PREKEY_UPLOAD, createOneTimePrekeys, createSignedPrekey, currentSignedPrekey, expiredSignedPrekeys, type PrekeyPolicy,
} from './prekeys.js';
import type { RelayHttp } from './relay-http.js';
import type { LocalStore } from './store/local-store.js';
import type { AccountRecord } from './store/records.js';

export class PrekeyKeeper {
  private stopped = false;

  constructor(
    private readonly store: LocalStore,
    private readonly http: RelayHttp,
    private readonly account: () => AccountRecord,
    private readonly policy: PrekeyPolicy,
  ) {}

  /** Called with the relay's count (on connect and when it runs low). */
  async replenish(remainingOnRelay: number): Promise<void> {
    if (this.stopped || remainingOnRelay >= this.policy.replenishBelow) return;
    const batch = this.store.batch();
    const oneTimePrekeys = createOneTimePrekeys(batch, MAX_PREKEY_UPLOAD - remainingOnRelay);
    await batch.commit();
    const account = this.account();
    await this.http.uploadPrekeys(account.deviceId, { oneTimePrekeys }, deviceSigner(account));
  }

  async rotateIfDue(now = Date.now()): Promise<void> {
    if (this.stopped) return;
    const all = this.store.all('signedPrekeys');
    const current = currentSignedPrekey(all);
    const batch = this.store.batch();
    const expired = new Set(expiredSignedPrekeys(all, this.policy, now).map((record) => record.keyId));
    for (const keyId of expired) batch.delete('signedPrekeys', String(keyId));
    // Base keys accepted under a deleted signed prekey can no longer be replayed into a session.
    for (const [baseKey, record] of this.store.entries('acceptedBaseKeys')) if (expired.has(record.signedPrekeyId)) batch.delete('acceptedBaseKeys', baseKey);
    const due = !current || now - current.createdAt >= this.policy.rotateSignedPrekeyEveryMs;
    const signedPrekey = due ? createSignedPrekey(batch, all, now) : undefined;
    await batch.commit();
    if (!signedPrekey) return;
    const account = this.account();
    await this.http.uploadPrekeys(account.deviceId, { signedPrekey }, deviceSigner(account));
  }

  stop(): void {
    this.stopped = true;
  }
}
