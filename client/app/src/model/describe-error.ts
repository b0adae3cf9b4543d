import { SdkError } from '../../../sdk/index.js';

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
      default:
        return `${error.message} (${error.code})`;
    }
  }
  return error instanceof Error ? error.message : String(error);
}
