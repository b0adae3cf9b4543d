/**
 * Stable error codes on the wire: socket acks carry `{ok:false, error:{code, message}}`,
 * HTTP routes `{error:{code, message}}`, a refused handshake a `connect_error` whose message
 * is the code. server/errors.ts maps each to its HTTP status.
 */
export type ErrorCode =
  | 'invalid'
  | 'too_large'
  | 'rate_limited'
  | 'quota_exceeded'
  | 'unknown_device'
  | 'not_found'
  | 'unauthorized'
  | 'stale_timestamp'
  | 'replayed_nonce'
  | 'bad_signature'
  | 'forbidden'
  | 'conflict'
  | 'unavailable'
  | 'unsupported_version'
  /** The envelope was sealed under an older device list than the relay holds for its recipient. */
  | 'stale_devices'
  | 'internal';

export interface WireError {
  code: ErrorCode;
  message: string;
}

export type Ack<T extends object = Record<never, never>> = ({ ok: true } & T) | { ok: false; error: WireError };
