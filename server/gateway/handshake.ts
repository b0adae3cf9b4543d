/**
 * `io.use` middleware: admits a socket only with a protocol v2 handshake (`auth.v === 2`), fresh
 * and signed by a registered device's key over the relay host it addressed. A refusal is a
 * connect_error whose message is the stable code. The socket's device id comes from here and
 * nowhere else, so no event can name another device's queue. A device removed by a device list
 * is deleted from the store, so its handshakes fail `unknown_device`.
 */
import type { Socket } from 'socket.io';
import { fromBase64Url } from '../../crypto/encoding.js';
import { SIGNATURE_BYTES, parseSigningPublicKey } from '../../crypto/keys.js';
import { verifyHandshake } from '../../crypto/statements.js';
import type { ErrorCode } from '../../protocol/errors.js';
import type { NonceRegistry } from '../http/nonce-cache.js';
import { relayConfigOf, relayHostFor } from '../http/public-origin.js';
import { PROTOCOL_VERSION } from '../../protocol/http.js';
import type { Store } from '../store/store.js';
import { checkHandshakeAuth } from './validators.js';

export class HandshakeError extends Error {
  readonly data: { code: ErrorCode };
  constructor(readonly code: ErrorCode) {
    super(code);
    this.data = { code };
  }
}

export interface HandshakeDeps {
  store: Store;
  nonces: NonceRegistry;
  skewMs: number;
}

/** Returns the authenticated device id or throws a HandshakeError. */
export async function authenticateHandshake(socket: Socket, deps: HandshakeDeps): Promise<string> {
  const auth: unknown = socket.handshake.auth;
  // The version first: a client of another protocol version learns that, not what else is wrong.
  if (typeof auth !== 'object' || auth === null || (auth as { v?: unknown }).v !== PROTOCOL_VERSION) throw new HandshakeError('unsupported_version');
  if (!checkHandshakeAuth.Check(auth)) throw new HandshakeError('invalid');
  const now = Date.now();
  if (Math.abs(now - auth.timestamp) > deps.skewMs) throw new HandshakeError('stale_timestamp');
  let publicKey: Uint8Array;
  let signature: Uint8Array;
  try {
    publicKey = parseSigningPublicKey(auth.deviceId);
    signature = fromBase64Url(auth.signature, SIGNATURE_BYTES);
    fromBase64Url(auth.nonce, 16);
  } catch {
    throw new HandshakeError('invalid');
  }
  if (!(await deps.store.getDevice(auth.deviceId))) throw new HandshakeError('unknown_device');
  const relayHost = relayHostFor(socket.handshake.headers.host, relayConfigOf(socket.nsp.server));
  const fields = { relayHost, deviceId: auth.deviceId, timestamp: auth.timestamp, nonce: auth.nonce };
  if (!verifyHandshake(fields, signature, publicKey)) throw new HandshakeError('bad_signature');
  // The device's own nonce table (shared with its signed requests): over its cap it alone is refused.
  const outcome = await deps.nonces.remember(auth.deviceId, `handshake:${auth.nonce}`, now);
  if (outcome === 'replayed') throw new HandshakeError('replayed_nonce');
  if (outcome !== 'fresh') throw new HandshakeError('rate_limited');
  return auth.deviceId;
}
