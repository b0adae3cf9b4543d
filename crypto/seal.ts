/**
 * Sealed sender: the envelope body is crypto_box_seal to the X25519 form of the recipient
 * DEVICE key, and the sender's handle and device id exist only inside it, so the relay (which
 * sees only the recipient) cannot tell who sent a stored envelope.
 *
 * Sealing hides the sender but does not authenticate it: whoever names a sender device here is
 * believed only once the session message decrypts in that device's session (the X3DH
 * agreement and every message key bind both device keys). docs/PROTOCOL.md §"Sealed sender".
 *
 * Plaintext inside the seal: 0x01 ‖ u16 len ‖ handle ‖ u16 len ‖ deviceId ‖ session message.
 */
import { BytesReader } from './bytes-reader.js';
import { concatBytes, fromUtf8, uintBE, utf8 } from './encoding.js';
import { CryptoError } from './errors.js';
import type { SigningKeyPair } from './keys.js';
import { parseSigningPublicKey, signingKeyToDh, signingPrivateKeyToDh } from './keys.js';
import { sodium } from './sodium.js';

export const SEAL_VERSION = 1;
const HANDLE = /^[a-z0-9_.-]{3,32}$/;

export interface SealedContent {
  senderHandle: string;
  senderDeviceId: string;
  message: Uint8Array;
}

function checkSender(handle: string, deviceId: string): void {
  if (!HANDLE.test(handle)) throw new CryptoError('invalid_encoding', 'sender handle is not a valid handle');
  parseSigningPublicKey(deviceId);
}

export function sealEnvelope(content: SealedContent, recipientDevicePublicKey: Uint8Array): Uint8Array {
  checkSender(content.senderHandle, content.senderDeviceId);
  const handle = utf8(content.senderHandle);
  const deviceId = utf8(content.senderDeviceId);
  const plain = concatBytes(
    new Uint8Array([SEAL_VERSION]),
    uintBE(handle.length, 2), handle,
    uintBE(deviceId.length, 2), deviceId,
    content.message,
  );
  return sodium().crypto_box_seal(plain, signingKeyToDh(recipientDevicePublicKey));
}

export function openEnvelope(body: Uint8Array, recipientDevice: SigningKeyPair): SealedContent {
  const publicKey = signingKeyToDh(recipientDevice.publicKey);
  const privateKey = signingPrivateKeyToDh(recipientDevice.privateKey);
  let plain: Uint8Array;
  try {
    plain = sodium().crypto_box_seal_open(body, publicKey, privateKey);
  } catch (cause) {
    throw new CryptoError('decrypt_failed', 'sealed envelope does not open with this device key', { cause });
  } finally {
    sodium().memzero(privateKey);
  }
  const reader = new BytesReader(plain);
  const version = reader.u8();
  if (version !== SEAL_VERSION) throw new CryptoError('unsupported_version', `sealed content version ${version}`);
  let senderHandle: string;
  let senderDeviceId: string;
  try {
    senderHandle = fromUtf8(reader.field());
    senderDeviceId = fromUtf8(reader.field());
  } catch (cause) {
    if (cause instanceof CryptoError) throw cause;
    throw new CryptoError('invalid_encoding', 'sender ids are not UTF-8', { cause });
  }
  checkSender(senderHandle, senderDeviceId);
  return { senderHandle, senderDeviceId, message: reader.rest() };
}
