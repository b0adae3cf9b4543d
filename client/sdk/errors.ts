/**
 * Every refusal of the SDK is an SdkError with a stable code, never a string result, so the
 * app can branch on `error.code` (and show `message`). Relay refusals keep the relay's wire
 * code in `relayCode`.
 */
import type { ErrorCode } from '../../protocol/errors.js';

export type SdkErrorCode =
  | 'not_registered'
  | 'already_registered'
  | 'relay_error'
  | 'network'
  | 'identity_changed'
  | 'untrusted_device'
  | 'untrusted_sender'
  | 'no_devices'
  | 'decrypt_failed'
  | 'invalid_content'
  | 'link_timeout'
  | 'not_a_member'
  /** Only a group's admins may add or remove members (anyone may leave). */
  | 'not_an_admin'
  | 'unknown_group'
  | 'unknown_contact'
  | 'unknown_message'
  | 'send_failed'
  | 'closed'
  /** The local store could not persist a batch; nothing more is saved until the profile is reopened. */
  | 'store_failed'
  /** v2: the relay served a device list that is malformed, unsigned, forged, or older than one already verified. */
  | 'untrusted_device_list'
  /** v2: adding or removing devices needs the account authority key (the primary device or the recovery key). */
  | 'no_authority'
  /** The recovery key is mistyped, or belongs to another account. */
  | 'wrong_recovery_key'
  /** This device is no longer in its account's device list. */
  | 'device_removed'
  /** A profile or peer from an older protocol version. */
  | 'unsupported_version'
  /** Another client has this profile open (one writer per profile: no message key is ever used twice). */
  | 'profile_locked'
  /** The relay's answer does not match the documented shape. */
  | 'invalid_reply'
  /** Attachments: a file over the 100 MiB limit (refused before uploading), or the relay's size cap. */
  | 'too_large'
  /** Attachments: the account's attachment quota on the relay is spent (expiry frees it). */
  | 'quota_exceeded'
  /** Attachments: the blob is not on the relay (never uploaded, or expired). */
  | 'not_found'
  /** Attachments: the blob is not the one the pointer names (its digest differs). */
  | 'digest_mismatch'
  /** Attachments: the blob ends early (cut off, or its final chunk missing). */
  | 'truncated'
  /** Attachments: the file gave another number of bytes than its size (it changed while being sent). */
  | 'file_changed'
  /** An upload or download stopped by its AbortSignal; an upload can be started again and resumes. */
  | 'cancelled';

export class SdkError extends Error {
  override readonly name = 'SdkError';
  constructor(
    readonly code: SdkErrorCode,
    message: string,
    readonly details: { relayCode?: ErrorCode; status?: number; handle?: string; deviceId?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}
