/** Parsing of keys and signatures from the wire, mapping crypto failures to the relay's `invalid`. */
import { fromBase64Url } from '../../crypto/encoding.js';
import { parseDhPublicKey, parseSigningPublicKey, SIGNATURE_BYTES } from '../../crypto/keys.js';
import { RelayError } from '../errors.js';

export function signingKey(text: string, what: string): Uint8Array {
  try {
    return parseSigningPublicKey(text);
  } catch (cause) {
    throw new RelayError('invalid', `${what} is not a valid Ed25519 public key`, { cause });
  }
}

export function dhKey(text: string, what: string): Uint8Array {
  try {
    return parseDhPublicKey(text);
  } catch (cause) {
    throw new RelayError('invalid', `${what} is not a valid X25519 public key`, { cause });
  }
}

export function signatureBytes(text: string, what: string): Uint8Array {
  try {
    return fromBase64Url(text, SIGNATURE_BYTES);
  } catch (cause) {
    throw new RelayError('invalid', `${what} is not a 64-byte base64url signature`, { cause });
  }
}

/** A nonce: base64url of 16 bytes. */
export function isNonce(text: unknown): text is string {
  if (typeof text !== 'string' || text.length !== 22) return false;
  try {
    fromBase64Url(text, 16);
    return true;
  } catch {
    return false;
  }
}
