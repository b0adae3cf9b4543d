import { SdkError } from '../../../sdk/index.js';
import { CryptoError } from '../../../../crypto/index.js';

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
      case 'already_registered':
        return 'This browser already holds an account. Erase it under Devices first.';
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
