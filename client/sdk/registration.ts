/**
 * Creating an account, and linking a new device to one. Linking: the NEW device shows a link
 * code (its device public key + a one-time secret) and polls its provisioning mailbox; an
 * EXISTING device that reads the code signs a device certificate and drops a link bundle
 * (account identity key pair, handle, certificate) there, sealed to the new device and keyed
 * by the secret, so the relay can neither read nor substitute it. The new device then
 * registers itself, signed by the identity key and its own device key.
 */
import {
  createLinkSecret, decodeLinkCode, deviceIdOf, encodeLinkCode, fromBase64Url, fromUtf8, generateSigningKeyPair,
  openLinkBundle, parseSigningPublicKey, sealLinkBundle, signDeviceCertificate, toBase64Url, utf8, type SigningKeyPair,
} from '../../crypto/index.js';
import type { DeviceRegistrationJson } from '../../server/protocol/http.js';
import { SdkError } from './errors.js';
import { keyPairOf, keyPairRecord } from './local-identity.js';
import { MAX_PREKEY_UPLOAD, createOneTimePrekeys, createSignedPrekey } from './prekeys.js';
import type { RelayHttp } from './relay-http.js';
import type { LocalStore } from './store/local-store.js';
import type { AccountRecord } from './store/records.js';

interface LinkBundle {
  v: 1;
  handle: string;
  identity: { publicKey: string; privateKey: string };
  certificate: { createdAt: number; signature: string };
}

function certify(identity: SigningKeyPair, devicePublicKey: Uint8Array, handle: string): AccountRecord['certificate'] {
  const createdAt = Date.now();
  const signature = signDeviceCertificate({ devicePublicKey, handle, createdAt }, identity.privateKey);
  return { createdAt, signature: toBase64Url(signature) };
}

/**
 * Writes the account with fresh prekeys to the store and returns the device registration to
 * send. The store is committed only after the relay accepted it (see `persistRegistered`).
 */
function prepareDevice(store: LocalStore, account: AccountRecord) {
  const batch = store.batch().put('account', 'self', account);
  const signedPrekey = createSignedPrekey(batch, []);
  const oneTimePrekeys = createOneTimePrekeys(batch, MAX_PREKEY_UPLOAD);
  const registration: DeviceRegistrationJson = { deviceId: account.deviceId, certificate: account.certificate, signedPrekey, oneTimePrekeys };
  return { batch, registration };
}

export async function createAccount(store: LocalStore, http: RelayHttp, relayUrl: string, handle: string): Promise<AccountRecord> {
  if (store.get('account', 'self')) throw new SdkError('already_registered', 'this profile already has an account');
  const identity = generateSigningKeyPair();
  const device = generateSigningKeyPair();
  const account: AccountRecord = {
    relayUrl, handle,
    identity: keyPairRecord(identity), device: keyPairRecord(device),
    deviceId: deviceIdOf(device.publicKey),
    certificate: certify(identity, device.publicKey, handle),
    nextPrekeyId: 1,
  };
  const { batch, registration } = prepareDevice(store, account);
  await http.createAccount(
    { handle, identityKey: account.identity.publicKey, device: registration },
    { identity: identity.privateKey, device: device.privateKey },
  );
  await batch.commit();
  return account;
}

export interface PendingLink {
  /** Show this to the user (or as a QR code) to enter on an existing device. */
  code: string;
  deviceId: string;
  /** Resolves with the new account record once an existing device approved the link. */
  completed: Promise<AccountRecord>;
  cancel(): void;
}

export function startLink(
  store: LocalStore, http: RelayHttp, relayUrl: string,
  options: { pollMs?: number; timeoutMs?: number } = {},
): PendingLink {
  if (store.get('account', 'self')) throw new SdkError('already_registered', 'this profile already has an account');
  const device = generateSigningKeyPair();
  const deviceId = deviceIdOf(device.publicKey);
  const linkSecret = createLinkSecret();
  let cancelled = false;
  const completed = (async () => {
    const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
    while (!cancelled && Date.now() < deadline) {
      const { bodies } = await http.claimProvisioning(deviceId, device.privateKey).catch((error: unknown) => {
        if (error instanceof SdkError && error.code === 'network') return { bodies: [] as string[] };
        throw error;
      });
      for (const body of bodies) {
        const bundle = tryOpen(body, device, linkSecret);
        if (bundle) return finishLink(store, http, relayUrl, device, bundle);
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
    }
    throw new SdkError('link_timeout', cancelled ? 'linking cancelled' : 'no existing device approved the link code in time');
  })();
  completed.catch(() => undefined);
  return { code: encodeLinkCode(deviceId, linkSecret), deviceId, completed, cancel: () => void (cancelled = true) };
}

/** Anyone can drop bodies into a mailbox; only one sealed with our secret counts. */
function tryOpen(body: string, device: SigningKeyPair, linkSecret: Uint8Array): LinkBundle | undefined {
  try {
    const bundle = JSON.parse(fromUtf8(openLinkBundle(fromBase64Url(body), device, linkSecret))) as LinkBundle;
    return bundle.v === 1 ? bundle : undefined;
  } catch {
    return undefined;
  }
}

async function finishLink(store: LocalStore, http: RelayHttp, relayUrl: string, device: SigningKeyPair, bundle: LinkBundle): Promise<AccountRecord> {
  const account: AccountRecord = {
    relayUrl, handle: bundle.handle,
    identity: bundle.identity, device: keyPairRecord(device),
    deviceId: deviceIdOf(device.publicKey),
    certificate: bundle.certificate,
    nextPrekeyId: 1,
  };
  const { batch, registration } = prepareDevice(store, account);
  await http.addDevice(bundle.handle, { device: registration }, {
    identity: keyPairOf(bundle.identity).privateKey,
    device: device.privateKey,
  });
  await batch.commit();
  return account;
}

/** On an existing device: approve the new device named by `code`. Returns its device id. */
export async function acceptLink(account: AccountRecord, http: RelayHttp, code: string): Promise<string> {
  const { deviceId, linkSecret } = decodeLinkCode(code);
  const devicePublicKey = parseSigningPublicKey(deviceId);
  const identity = keyPairOf(account.identity);
  const bundle: LinkBundle = {
    v: 1, handle: account.handle, identity: account.identity,
    certificate: certify(identity, devicePublicKey, account.handle),
  };
  const sealed = sealLinkBundle(utf8(JSON.stringify(bundle)), devicePublicKey, linkSecret);
  await http.putProvisioning(deviceId, toBase64Url(sealed));
  return deviceId;
}
