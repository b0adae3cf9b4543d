/** Test-only access to internals (message-key derivation) used by the forward-secrecy scan. */
import type { Session } from '../../crypto/index.js';
import { sodium } from '../../crypto/index.js';
import { parseMessage } from '../../crypto/message-format.js';
import { deriveChainKeys, deriveMessageKey } from '../../crypto/ratchet-kdf.js';
import { associatedData } from '../../crypto/session-state.js';

export * from '../../crypto/index.js';
export const deriveChainKeysForTest = deriveChainKeys;

export function tryOpenWithSeed(session: Session, seed: Uint8Array, message: Uint8Array): boolean {
  const m = parseMessage(message);
  const key = deriveMessageKey(seed, associatedData(session.state), m.header);
  try {
    sodium().crypto_secretbox_open_easy(m.ciphertext, m.nonce, key);
    return true;
  } catch {
    return false;
  }
}
