/**
 * Safety numbers for the trust screen. When a contact's identity key changed, the number shown
 * is the one for the NEW key (what the user must compare before accepting it), so it is
 * computed here from the contact record rather than through the SDK (which uses the pinned key).
 */
import { fromBase64Url, safetyFingerprint, safetyNumber } from '../../../../crypto/index.js';
import type { ContactRecord, SealpostClient } from '../../../sdk/index.js';

export interface SafetyView {
  handle: string;
  /** 60 digits in 12 groups of 5. */
  digits: string;
  /** What the QR code carries (compared by a scanner). */
  fingerprint: string;
  verified: boolean;
  /** The relay reports a key other than the pinned one. */
  changed: boolean;
}

export async function loadSafety(client: SealpostClient, handle: string): Promise<SafetyView> {
  const account = client.account;
  if (!account) throw new Error('not registered');
  let contact: ContactRecord | undefined = client.contact(handle);
  if (!contact) contact = await client.lookup(handle);
  const theirs = { handle, identityKey: fromBase64Url(contact.changedIdentityKey ?? contact.identityKey) };
  const ours = { handle: account.handle, identityKey: fromBase64Url(account.identityKey) };
  return {
    handle,
    digits: safetyNumber(ours, theirs),
    fingerprint: safetyFingerprint(ours, theirs),
    verified: contact.verified === true && !contact.changedIdentityKey,
    changed: contact.changedIdentityKey !== undefined,
  };
}

/** The SDK keeps `verified` on its contact record but has no setter: write the record through its store. */
export async function setVerified(client: SealpostClient, handle: string, verified: boolean): Promise<void> {
  const contact = client.contact(handle);
  if (!contact || contact.changedIdentityKey) return;
  await client.setVerified(handle, verified);
}
