/**
 * Link codes as people meet them: the typed form shown on the new device, when it expires in
 * words, and what is wrong with a code someone typed, in words (the crypto layer's codes, such as
 * a failed checksum, mean nothing to them). Pure functions: tested in test/e2e/link-logic.test.ts.
 */
import {
  CryptoError, decodeLinkCode, typedLinkCode, typedLinkCodeCharacters, TYPED_LINK_CODE_CHARACTERS,
} from '../../../../crypto/index.js';
import { timeLabel } from './timeline.js';

/** The code as shown, copied and put in the QR code: the typed form (case, spaces, dashes do not matter). */
export function shownLinkCode(code: string): string {
  return typedLinkCode(code);
}

/** "expires at 14:05, in 9 minutes" (minutes rounded up, so it never says 0 while still good). */
export function expiryText(expiresAt: number, now: number): string {
  const left = expiresAt - now;
  const at = timeLabel(expiresAt);
  if (left <= 0) return `expired at ${at}`;
  if (left < 60_000) return `expires at ${at}, in less than a minute`;
  const minutes = Math.ceil(left / 60_000);
  return `expires at ${at}, in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
}

/**
 * Why `code` cannot be a link code, in words, or undefined if it decodes. Length is judged on
 * the characters that count, so a missed group reads as "part of it is missing", not as a typo.
 */
export function linkCodeProblem(code: string): string | undefined {
  if (!code.trim()) return 'Enter the code the new device shows.';
  try {
    decodeLinkCode(code);
    return undefined;
  } catch (error) {
    if (!(error instanceof CryptoError)) throw error;
    if (error.code === 'unsupported_version') {
      return 'That code comes from a different version of Sealpost. Update the app on both devices, then start linking again on the new device.';
    }
    const typed = typedLinkCodeCharacters(code);
    if (!/^\s*spl\d+\./i.test(code) && typed === undefined) {
      return 'That is not a link code. On the new device choose “Link to an existing account” and enter the code it shows.';
    }
    if (typed !== undefined && typed.length < TYPED_LINK_CODE_CHARACTERS) {
      return `That code is too short: part of it is missing. It has ${TYPED_LINK_CODE_CHARACTERS} letters and digits, not counting dashes.`;
    }
    if (typed !== undefined && typed.length > TYPED_LINK_CODE_CHARACTERS) {
      return `That code is too long: it has ${TYPED_LINK_CODE_CHARACTERS} letters and digits, not counting dashes.`;
    }
    return 'That code has a typo: check it against the other device.';
  }
}
