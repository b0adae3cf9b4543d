/**
 * Trusting a contact's identity key: the safety number the user compares (the pending new key's
 * while a change waits), and accepting a key that changed, which releases what was held for it.
 */
import { fromBase64Url, safetyNumber } from '../../crypto/index.js';
import type { ClientContext } from './context.js';
import type { Emit } from './events.js';
import { releaseHeld, type Receipts } from './inbound.js';
import type { LocalStore } from './store/local-store.js';
import type { AccountRecord, ContactRecord } from './store/records.js';

/** The 60-digit safety number between our account and `handle`. */
export function safetyNumberWith(account: AccountRecord, handle: string, contact: ContactRecord): string {
  return safetyNumber(
    { handle: account.handle, identityKey: fromBase64Url(account.identityKey) },
    { handle, identityKey: fromBase64Url(contact.changedIdentityKey ?? contact.identityKey) },
  );
}

/**
 * Pins `handle`'s changed identity key, if one is pending, and drops the old key's sessions;
 * returns the delivered receipts for what was held meanwhile. Call inside serial(). `context`
 * is asked for only when there is a change to accept: without one, nothing is wired up.
 */
export async function acceptChangedIdentity(store: LocalStore, handle: string, context: () => ClientContext, emit: Emit): Promise<Receipts> {
  const contact = store.get('contacts', handle);
  if (!contact?.changedIdentityKey) return new Map<string, string[]>();
  const ctx = context();
  const batch = store.batch();
  // A new identity key starts a new series of device lists: the old key's pin means nothing for it.
  const { listHead: _head, listTime: _time, changedIdentityKey, verified: _verified, ...rest } = contact;
  batch.put('contacts', handle, { ...rest, identityKey: changedIdentityKey, devices: [] });
  ctx.sessions.forget(batch, store.all('sessions').filter((s) => s.handle === handle).map((s) => s.deviceId));
  await batch.commit();
  // What arrived under the new key while it was unaccepted is shown now, not lost.
  return releaseHeld(ctx, handle, emit);
}
