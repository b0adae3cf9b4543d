import { SdkError } from '../../../sdk/index.js';
import { CryptoError } from '../../../../crypto/index.js';

/** What a `send_problem` event says: one recipient (or one of its devices) a send could not reach. */
export interface SendProblemLike {
  handle: string;
  deviceId?: string;
  code: string;
}

/**
 * A send_problem in words: who was not reached and why. `me`: this account's handle (a problem
 * with our own other devices is about "your other devices"). The code stays at the end.
 */
export function describeSendProblem(problem: SendProblemLike, me: string | undefined): string {
  const own = problem.handle === me;
  const whose = own ? 'your' : `${problem.handle}’s`;
  const target = problem.deviceId ? (own ? 'one of your other devices' : `one of ${whose} devices`) : own ? 'your other devices' : problem.handle;
  const why = SEND_PROBLEM_REASONS[problem.code]?.(whose);
  return why ? `Could not send to ${target} (${why}).` : `Could not send to ${target} (${problem.code}).`;
}

const SEND_PROBLEM_REASONS: Record<string, (whose: string) => string> = {
  untrusted_device: (whose) => `its keys do not match what ${whose} account signed`,
  unknown_device: () => 'the relay no longer knows that device; it may have been removed',
  stale_devices: (whose) => `the relay kept refusing the list of ${whose} devices this app verified`,
  untrusted_device_list: (whose) => `the relay shows a list of ${whose} devices that their account did not sign`,
  identity_changed: (whose) => `${whose} safety number changed: compare it and accept the new key first`,
  no_devices: () => 'no device of theirs can receive messages',
  quota_exceeded: () => 'their inbox on the relay is full of undelivered messages',
  too_large: () => 'the message is too large for the relay',
  rate_limited: () => 'sending too fast; try again in a minute',
  network: () => 'the relay could not be reached',
  decrypt_failed: () => 'a secure session could not be set up',
};

/** A short sentence for people, from an SDK error (codes stay visible for bug reports). */
export function describeError(error: unknown): string {
  if (error instanceof SdkError) {
    switch (error.code) {
      case 'network':
        return 'The relay cannot be reached right now.';
      case 'identity_changed':
        return 'Their safety number changed: compare it and accept the new key first.';
      case 'no_devices':
        return 'That account has no device that can receive messages.';
      case 'relay_error':
        if (error.details.relayCode === 'not_found') return 'No account with that handle.';
        if (error.details.relayCode === 'conflict') return 'That handle is already taken.';
        if (error.details.relayCode === 'rate_limited') return 'Too many attempts; try again in a minute.';
        return `The relay refused: ${error.details.relayCode ?? 'error'} (${error.message}).`;
      case 'send_failed':
        return error.details.relayCode ? `The relay refused it (${error.details.relayCode}).` : error.message;
      case 'untrusted_device_list': {
        const whose = error.details.handle ? `${error.details.handle}’s` : 'this account’s';
        return `The relay shows a list of ${whose} devices that their account did not sign (or an older one than already seen). Nothing is sent to those devices until this is resolved.`;
      }
      case 'no_authority':
        return 'Only the device that created the account (or recovered it) can do this. Do it there.';
      case 'wrong_recovery_key':
        return 'That recovery key does not belong to this account, or a character is mistyped.';
      case 'device_removed':
        return 'This device was removed from your account. It can no longer send or read new messages; erase it under Devices to start again.';
      case 'unsupported_version':
        return 'This data was made by an older version of Sealpost that this version cannot use. Erase this device and link it again (or recover the account).';
      case 'invalid_reply':
        return 'The relay answered with something this app does not understand. Try again later; if it keeps happening, the relay may need an update.';
      case 'link_timeout':
        return 'The new device did not confirm in time. Start linking again on the new device and enter the new code it shows.';
      case 'unknown_message':
        return 'That message is not one this device sent (or it is gone), so it cannot be sent again from here.';
      case 'already_registered':
        return 'This browser already holds an account. Erase it under Devices first.';
      // Files (docs/sdk.md "Files").
      case 'too_large':
        return error.details.relayCode ? 'The relay does not accept a file this large.' : `Too large to send: ${error.message}.`;
      case 'quota_exceeded':
        return 'The relay holds as many of your files as it allows. They are deleted 30 days after sending; try again later.';
      case 'not_found':
        return 'This file is no longer on the relay (files are kept 30 days).';
      case 'truncated':
        return 'The file arrived incomplete; it was not opened. Try again.';
      case 'digest_mismatch':
        return 'The file did not arrive intact; it was not opened.';
      case 'file_changed':
        return 'The file changed on this device while it was being sent. Attach it again.';
      case 'cancelled':
        return 'Cancelled.';
      default:
        return `${error.message} (${error.code})`;
    }
  }
  if (error instanceof CryptoError) {
    // Only decoding of what a person typed reaches the app: link codes and recovery keys.
    return `That code is not valid: ${error.message}.`;
  }
  return error instanceof Error ? error.message : String(error);
}
