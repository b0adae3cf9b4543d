/**
 * Content padding: ISO/IEC 7816-4 (libsodium `pad`) to a multiple of 256 bytes, so the relay
 * learns only a size bucket. Padding always adds at least one byte, so 256 bytes of content
 * become 512. Fixed buckets instead of Padmé: chat messages are short and 256-byte buckets
 * hide more of them (every message below 256 bytes looks the same); the cost is small.
 */
import { CryptoError } from './errors.js';
import { sodium } from './sodium.js';

export const PADDING_BLOCK = 256;

export function padContent(content: Uint8Array): Uint8Array {
  return sodium().pad(content, PADDING_BLOCK);
}

export function unpadContent(padded: Uint8Array): Uint8Array {
  if (padded.length === 0 || padded.length % PADDING_BLOCK !== 0) {
    throw new CryptoError('bad_padding', 'padded content is not a whole number of blocks');
  }
  try {
    return sodium().unpad(padded, PADDING_BLOCK);
  } catch (cause) {
    throw new CryptoError('bad_padding', 'invalid padding', { cause });
  }
}
