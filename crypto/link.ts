/**
 * Device linking. The NEW device shows a link code (its device id + a 16-byte secret); an
 * existing device of the account reads it and sends the new device a bundle (the account
 * identity key and whatever else the SDK chooses) through a short-lived relay mailbox.
 *
 * The bundle is both sealed to the new device (crypto_box_seal: only it can read it) and
 * encrypted with a key derived from the link secret (crypto_secretbox: only someone who saw
 * the code could have made it). The relay sees neither the secret nor the bundle, so it can
 * neither read the identity key nor substitute its own. docs/PROTOCOL.md §"Device linking".
 */
import { fromBase32, toBase32 } from './base32.js';
import { BytesReader } from './bytes-reader.js';
import { concatBytes, fromBase64Url, toBase64Url } from './encoding.js';
import { CryptoError } from './errors.js';
import { KDF_LABELS, deriveKey } from './kdf.js';
import type { SigningKeyPair } from './keys.js';
import { assertSigningPublicKey, deviceIdOf, signingKeyToDh, signingPrivateKeyToDh } from './keys.js';
import { sodium } from './sodium.js';

export const LINK_SECRET_BYTES = 16;
const LINK_BUNDLE_VERSION = 2;
const LINK_CODE_PREFIX = 'spl2.';
const LINK_CODE_CHECK_BYTES = 2;

export function createLinkSecret(): Uint8Array {
  return sodium().randombytes_buf(LINK_SECRET_BYTES);
}

function checkSecret(linkSecret: Uint8Array): void {
  if (linkSecret.length !== LINK_SECRET_BYTES) throw new CryptoError('invalid_key', 'link secret must be 16 bytes');
}

/** key = BLAKE2b-256(key = link secret, label "sealpost/v2/link-bundle", fields: new device public key). */
function linkBundleKey(newDevicePublicKey: Uint8Array, linkSecret: Uint8Array): Uint8Array {
  checkSecret(linkSecret);
  return deriveKey(KDF_LABELS.linkBundle, linkSecret, [newDevicePublicKey]);
}

/** crypto_box_seal(newDeviceX25519, 0x01 ‖ nonce(24) ‖ secretbox(bundle, nonce, linkKey)). */
export function sealLinkBundle(bundle: Uint8Array, newDevicePublicKey: Uint8Array, linkSecret: Uint8Array): Uint8Array {
  const recipient = signingKeyToDh(newDevicePublicKey);
  const key = linkBundleKey(newDevicePublicKey, linkSecret);
  const nonce = sodium().randombytes_buf(sodium().crypto_secretbox_NONCEBYTES);
  const boxed = sodium().crypto_secretbox_easy(bundle, nonce, key);
  sodium().memzero(key);
  return sodium().crypto_box_seal(concatBytes(new Uint8Array([LINK_BUNDLE_VERSION]), nonce, boxed), recipient);
}

export function openLinkBundle(sealed: Uint8Array, newDevice: SigningKeyPair, linkSecret: Uint8Array): Uint8Array {
  const publicKey = signingKeyToDh(newDevice.publicKey);
  const privateKey = signingPrivateKeyToDh(newDevice.privateKey);
  let inner: Uint8Array;
  try {
    inner = sodium().crypto_box_seal_open(sealed, publicKey, privateKey);
  } catch (cause) {
    throw new CryptoError('decrypt_failed', 'link bundle is not sealed to this device', { cause });
  } finally {
    sodium().memzero(privateKey);
  }
  const reader = new BytesReader(inner);
  const version = reader.u8();
  if (version !== LINK_BUNDLE_VERSION) throw new CryptoError('unsupported_version', `link bundle version ${version}`);
  const nonce = reader.take(sodium().crypto_secretbox_NONCEBYTES);
  const boxed = reader.rest();
  const key = linkBundleKey(newDevice.publicKey, linkSecret);
  try {
    return sodium().crypto_secretbox_open_easy(boxed, nonce, key);
  } catch (cause) {
    throw new CryptoError('decrypt_failed', 'link bundle was not made with this link secret', { cause });
  } finally {
    sodium().memzero(key);
  }
}

function linkCodeCheck(payload: Uint8Array): Uint8Array {
  return deriveKey(KDF_LABELS.linkCode, null, [payload], 16).slice(0, LINK_CODE_CHECK_BYTES);
}

/**
 * "spl2." + base64url(device public key(32) ‖ link secret(16) ‖ check(2)) — 72 characters.
 * The version lives in the prefix; the 2-byte BLAKE2b check catches copy/paste damage (a
 * damaged device id would otherwise seal the bundle to a device that does not exist).
 */
export function encodeLinkCode(deviceId: string, linkSecret: Uint8Array): string {
  checkSecret(linkSecret);
  const devicePublicKey = fromBase64Url(deviceId, 32);
  assertSigningPublicKey(devicePublicKey);
  const payload = concatBytes(devicePublicKey, linkSecret);
  return LINK_CODE_PREFIX + toBase64Url(concatBytes(payload, linkCodeCheck(payload)));
}

/**
 * The same 50 bytes for people to type: Crockford base32 in 16 groups of 5, e.g.
 * "7Q2M4-…-K9ZTA" (95 characters). Case, spaces and dashes do not matter when it is decoded, and
 * its characters are all in a QR code's compact alphanumeric mode.
 */
export function typedLinkCode(code: string): string {
  const groups = toBase32(linkCodeBytes(code)).match(/.{1,5}/g) ?? [];
  return groups.join('-');
}

/** How many characters a typed code has without its dashes (80). */
export const TYPED_LINK_CODE_CHARACTERS = Math.ceil(((32 + LINK_SECRET_BYTES + LINK_CODE_CHECK_BYTES) * 8) / 5);

/**
 * What is left of a typed code once everything that does not matter is dropped: whitespace
 * (line breaks from copying), dashes and case. Undefined if it is not made of base32 at all.
 */
export function typedLinkCodeCharacters(code: string): string | undefined {
  const text = code.replace(/[\s\-\u2010-\u2015]+/g, '').toUpperCase();
  return /^[0-9A-Z]*$/.test(text) && !/U/.test(text) ? text : undefined;
}

/** The payload and check of either form; the check is not verified here. */
function linkCodeBytes(code: string): Uint8Array {
  // Whitespace anywhere is dropped: a code copied from a wrapped line or a chat gains some.
  const text = typeof code === 'string' ? code.replace(/\s+/g, '') : '';
  if (/^spl\d+\./i.test(text)) {
    if (!text.startsWith(LINK_CODE_PREFIX)) throw new CryptoError('unsupported_version', 'unknown link code version');
    return fromBase64Url(text.slice(LINK_CODE_PREFIX.length), 32 + LINK_SECRET_BYTES + LINK_CODE_CHECK_BYTES);
  }
  const typed = typedLinkCodeCharacters(text);
  if (typed === undefined || typed.length === 0) throw new CryptoError('invalid_encoding', 'not a Sealpost link code');
  return fromBase32(typed, 32 + LINK_SECRET_BYTES + LINK_CODE_CHECK_BYTES);
}

/** Either form: "spl2." + base64url (whitespace ignored) or the typed form (case, spaces, dashes ignored). */
export function decodeLinkCode(code: string): { deviceId: string; linkSecret: Uint8Array } {
  const bytes = linkCodeBytes(code);
  const payload = bytes.slice(0, 32 + LINK_SECRET_BYTES);
  if (!sodium().memcmp(linkCodeCheck(payload), bytes.slice(32 + LINK_SECRET_BYTES))) {
    throw new CryptoError('invalid_encoding', 'link code checksum does not match (mistyped?)');
  }
  const devicePublicKey = payload.slice(0, 32);
  assertSigningPublicKey(devicePublicKey);
  return { deviceId: deviceIdOf(devicePublicKey), linkSecret: payload.slice(32) };
}
