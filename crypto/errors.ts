/** Every failure of crypto/ is a CryptoError with a stable code — never a string result. */
export type CryptoErrorCode =
  | 'invalid_encoding'
  | 'invalid_key'
  | 'bad_signature'
  | 'low_order_point'
  | 'decrypt_failed'
  | 'replay'
  | 'too_many_skipped'
  | 'bad_padding'
  | 'unsupported_version'
  /** A prekey message names a signed or one-time prekey the receiver does not hold. */
  | 'unknown_prekey'
  /** An attachment blob that ends early or lacks its final chunk. */
  | 'truncated'
  /** An attachment blob that decrypts but is not the one its pointer's digest names. */
  | 'digest_mismatch';

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
