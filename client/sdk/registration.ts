/**
 * Creating an account, linking a new device to one, and recovering one (protocol v2).
 *
 * Linking: the NEW device shows a link code (its device public key + a one-time secret) and
 * polls its provisioning mailbox. The device holding the account authority reads the code,
 * signs the next device list with the new device in it, and drops a link bundle (handle,
 * identity public key, that list) there, sealed to the new device and keyed by the secret, so
 * the relay can neither read nor substitute it. No private key travels. The new device checks
 * the list, registers itself with it (signed by its own key), and then announces itself to the
 * account's devices with a `linked` content: the approving device reports success only then.
 *
 * Recovery: the recovery key is the authority key itself; a fresh device signs a list naming
 * only itself (next version), and the relay drops every device the list leaves out. Contacts
 * see a device change under the same identity key, not a new identity.
 */
import {
  createLinkSecret, decodeLinkCode, decodeRecoveryKey, deviceIdOf, encodeLinkCode, fromBase64Url, fromUtf8,
  generateSigningKeyPair, openLinkBundle, parseSigningPublicKey, sealLinkBundle, toBase64Url, utf8, verifyDeviceList,
  CryptoError, type SigningKeyPair,
} from '../../crypto/index.js';
import { Value } from '@sinclair/typebox/value';
import { Type } from '@sinclair/typebox';
import { Handle, Key32, SignedDeviceList, type DeviceRegistrationJson, type SignedDeviceListJson } from '../../protocol/http.js';
import { firstDeviceList, listWith, nextDeviceList } from './account-authority.js';
import { SdkError } from './errors.js';
import { keyPairRecord } from './local-identity.js';
import { MAX_PREKEY_UPLOAD, createOneTimePrekeys, createSignedPrekey } from './prekeys.js';
import type { RelayHttp, RequestSigner } from './relay-http.js';
import type { LocalStore } from './store/local-store.js';
import type { AccountRecord } from './store/records.js';

const LinkBundle = Type.Object({ v: Type.Literal(2), handle: Handle, identityKey: Key32, deviceList: SignedDeviceList });

function signerOf(deviceId: string, device: SigningKeyPair): RequestSigner {
  return { deviceId, privateKey: device.privateKey };
}

/**
 * Writes the account with fresh prekeys to a batch and returns the device registration to
 * send. The batch is committed only after the relay accepted it.
 */
function prepareDevice(store: LocalStore, account: AccountRecord) {
  const batch = store.batch().put('account', 'self', account);
  const signedPrekey = createSignedPrekey(batch, []);
  const oneTimePrekeys = createOneTimePrekeys(batch, MAX_PREKEY_UPLOAD);
  const registration: DeviceRegistrationJson = { deviceId: account.deviceId, signedPrekey, oneTimePrekeys };
  return { batch, registration };
}

function requireEmpty(store: LocalStore): void {
  if (store.get('account', 'self')) throw new SdkError('already_registered', 'this profile already has an account');
}

export async function createAccount(store: LocalStore, http: RelayHttp, relayUrl: string, handle: string): Promise<AccountRecord> {
  requireEmpty(store);
  const authority = generateSigningKeyPair();
  const device = generateSigningKeyPair();
  const deviceId = deviceIdOf(device.publicKey);
  const deviceList = firstDeviceList(authority, handle, deviceId);
  const account: AccountRecord = {
    v: 2, relayUrl, handle, identityKey: toBase64Url(authority.publicKey), authority: keyPairRecord(authority),
    device: keyPairRecord(device), deviceId, deviceList, nextPrekeyId: 1,
  };
  const { batch, registration } = prepareDevice(store, account);
  await http.createAccount({ handle, identityKey: account.identityKey, device: registration, deviceList }, signerOf(deviceId, device));
  await batch.commit();
  return account;
}

export interface PendingLink {
  /** Show this to the user (or as a QR code) to enter on the device that holds the account authority. */
  code: string;
  deviceId: string;
  /** Resolves with the new account record once the link was approved and this device registered. */
  completed: Promise<AccountRecord>;
  cancel(): void;
}

export function startLink(
  store: LocalStore, http: RelayHttp, relayUrl: string,
  options: { pollMs?: number; timeoutMs?: number } = {},
): PendingLink {
  requireEmpty(store);
  const device = generateSigningKeyPair();
  const deviceId = deviceIdOf(device.publicKey);
  const linkSecret = createLinkSecret();
  let cancelled = false;
  const completed = (async () => {
    const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
    while (!cancelled && Date.now() < deadline) {
      const { bodies } = await http.claimProvisioning(deviceId, signerOf(deviceId, device)).catch((error: unknown) => {
        if (error instanceof SdkError && error.code === 'network') return { bodies: [] as string[] };
        throw error;
      });
      for (const body of bodies) {
        const bundle = tryOpen(body, device, linkSecret, deviceId);
        if (bundle) return finishLink(store, http, relayUrl, device, bundle);
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
    }
    throw new SdkError('link_timeout', cancelled ? 'linking cancelled' : 'no device of the account approved the link code in time');
  })();
  completed.catch(() => undefined);
  return { code: encodeLinkCode(deviceId, linkSecret), deviceId, completed, cancel: () => void (cancelled = true) };
}

type LinkBundleJson = { v: 2; handle: string; identityKey: string; deviceList: SignedDeviceListJson };

/**
 * Anyone can drop bodies into a mailbox; only one sealed with our secret counts, and only if its
 * list is signed by the identity key it names and lists this device.
 */
function tryOpen(body: string, device: SigningKeyPair, linkSecret: Uint8Array, deviceId: string): LinkBundleJson | undefined {
  try {
    const parsed: unknown = JSON.parse(fromUtf8(openLinkBundle(fromBase64Url(body), device, linkSecret)));
    if (!Value.Check(LinkBundle, parsed)) return undefined;
    verifyDeviceList(parsed.deviceList, fromBase64Url(parsed.identityKey, 32));
    if (parsed.deviceList.handle !== parsed.handle || !parsed.deviceList.devices.some((d) => d.deviceId === deviceId)) return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

async function finishLink(store: LocalStore, http: RelayHttp, relayUrl: string, device: SigningKeyPair, bundle: LinkBundleJson): Promise<AccountRecord> {
  const deviceId = deviceIdOf(device.publicKey);
  const account: AccountRecord = {
    v: 2, relayUrl, handle: bundle.handle, identityKey: bundle.identityKey,
    device: keyPairRecord(device), deviceId, deviceList: bundle.deviceList, nextPrekeyId: 1,
  };
  const { batch, registration } = prepareDevice(store, account);
  await http.addDevice(bundle.handle, { device: registration, deviceList: bundle.deviceList }, signerOf(deviceId, device));
  await batch.commit();
  return account;
}

/**
 * On the device holding the authority: signs the next list with the new device named by `code`
 * and hands it over. Returns the new device id and the list; the link is complete only when the
 * new device announces itself (SealpostClient.approveLink waits for that).
 */
export async function approveLink(account: AccountRecord, http: RelayHttp, code: string): Promise<{ deviceId: string; deviceList: SignedDeviceListJson }> {
  const { deviceId, linkSecret } = decodeLinkCode(code);
  const devicePublicKey = parseSigningPublicKey(deviceId);
  const deviceList = listWith(account, deviceId);
  const bundle: LinkBundleJson = { v: 2, handle: account.handle, identityKey: account.identityKey, deviceList };
  const sealed = sealLinkBundle(utf8(JSON.stringify(bundle)), devicePublicKey, linkSecret);
  await http.putProvisioning(deviceId, toBase64Url(sealed));
  return { deviceId, deviceList };
}

/** On a fresh profile: takes the account back with its recovery key; every other device is dropped. */
export async function recoverAccount(store: LocalStore, http: RelayHttp, relayUrl: string, handle: string, recoveryKey: string): Promise<AccountRecord> {
  requireEmpty(store);
  let authority: SigningKeyPair;
  try {
    authority = decodeRecoveryKey(recoveryKey);
  } catch (cause) {
    const message = cause instanceof CryptoError ? cause.message : 'not a recovery key';
    throw new SdkError('wrong_recovery_key', message, { cause });
  }
  // The recovery lookup is signed by the recovery key itself: the relay answers an unknown handle
  // and a key that is not the account's alike (bad_signature), so it reveals no handle.
  const view = await http.recoveryDeviceList(handle, authority).catch((error: unknown) => {
    if (error instanceof SdkError && error.details.relayCode === 'bad_signature') {
      throw new SdkError('wrong_recovery_key', `this recovery key does not belong to ${handle} (or there is no such account)`, { handle, cause: error });
    }
    throw error;
  });
  const identityKey = toBase64Url(authority.publicKey);
  if (view.identityKey !== identityKey) throw new SdkError('wrong_recovery_key', `this recovery key does not belong to ${handle}`, { handle });
  try {
    verifyDeviceList(view.deviceList, authority.publicKey);
  } catch (cause) {
    throw new SdkError('untrusted_device_list', `the relay's device list for ${handle} is not signed by its recovery key`, { handle, cause });
  }
  const device = generateSigningKeyPair();
  const deviceId = deviceIdOf(device.publicKey);
  const now = Date.now();
  const deviceList = nextDeviceList(authority, view.deviceList, [{ deviceId, createdAt: Math.max(now, view.deviceList.time) }], now);
  const account: AccountRecord = {
    v: 2, relayUrl, handle, identityKey, authority: keyPairRecord(authority), device: keyPairRecord(device), deviceId, deviceList, nextPrekeyId: 1,
  };
  const { batch, registration } = prepareDevice(store, account);
  await http.addDevice(handle, { device: registration, deviceList }, signerOf(deviceId, device));
  await batch.commit();
  return account;
}
