/**
 * The one owner of the app's wording for things that went wrong: every code that the SDK, the
 * relay or crypto/ can produce becomes a sentence here, and nothing else puts a code on screen.
 * The tables are typed by the code unions, so a new code does not compile until it has words;
 * test/e2e/rough-edges-words.test.ts checks that no sentence contains a snake_case code.
 */
import { SdkError, type ConnectionState, type SdkErrorCode } from '../../../sdk/index.js';
import { CryptoError, type CryptoErrorCode } from '../../../../crypto/index.js';
import type { ErrorCode } from '../../../../protocol/errors.js';
import type { HandleInput } from './handle-input.js';

/** What a `send_problem` event says: one recipient (or one of its devices) a send could not reach. */
export interface SendProblemLike {
  handle: string;
  deviceId?: string;
  code: string;
}

/**
 * A send_problem in words: who was not reached and why. `me`: this account's handle (a problem
 * with our own other devices is about "your other devices").
 */
export function describeSendProblem(problem: SendProblemLike, me: string | undefined): string {
  const own = problem.handle === me;
  const whose = own ? 'your' : `${problem.handle}’s`;
  const target = problem.deviceId ? (own ? 'one of your other devices' : `one of ${whose} devices`) : own ? 'your other devices' : problem.handle;
  const why = SEND_PROBLEM_REASONS[problem.code]?.(whose) ?? 'the relay gave a reason this version of the app does not know';
  return `Could not send to ${target} (${why}).`;
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

/** The relay's wire codes in words (what it refused, as far as a person needs to know). */
const RELAY_CODES: Record<ErrorCode, string> = {
  invalid: 'The relay did not accept the request as sent.',
  too_large: 'The relay does not accept something this large.',
  rate_limited: 'Too many attempts; try again in a minute.',
  quota_exceeded: 'The relay is holding as much for this account as it allows; try again later.',
  unknown_device: 'The relay no longer knows this device: it was removed from the account.',
  not_found: 'The relay does not have what was asked for.',
  unauthorized: 'The relay did not recognise this device’s signature. Check that this device’s clock is right.',
  stale_timestamp: 'This device’s clock is too far off for the relay. Set the clock right and try again.',
  replayed_nonce: 'The relay saw this request twice and refused the copy. Try again.',
  bad_signature: 'The relay could not verify this device’s signature.',
  forbidden: 'The relay does not allow this device to do that.',
  conflict: 'That handle is already taken.',
  unavailable: 'The relay is busy or starting up. Try again in a moment.',
  unsupported_version: 'The relay speaks a different version of the Sealpost protocol. Reload the page; if this stays, the relay needs an update.',
  stale_devices: 'The relay holds a newer list of that account’s devices. Try again.',
  internal: 'The relay had an internal problem. Try again later.',
};

/** Every SDK code in words; `relay_error`, `send_failed` and a few others are refined in describeError. */
const SDK_CODES: Record<SdkErrorCode, string> = {
  not_registered: 'This device has no account yet.',
  already_registered: 'This browser already holds an account. Erase it under Devices first.',
  relay_error: 'The relay refused the request.',
  network: 'The relay cannot be reached right now.',
  identity_changed: 'Their safety number changed: compare it and accept the new key first.',
  untrusted_device: 'A device of that account is not signed by the account, so nothing is sent to it.',
  untrusted_sender: 'A message came from a device its account did not sign, so it was dropped.',
  no_devices: 'That account has no device that can receive messages.',
  decrypt_failed: 'A message could not be decrypted on this device.',
  invalid_content: 'A message arrived in a form this app cannot read.',
  link_timeout: 'The new device did not confirm in time. Start linking again on the new device and enter the new code it shows.',
  not_a_member: 'You are not a member of this group.',
  not_an_admin: 'Only the group’s admins can add or remove members.',
  unknown_group: 'This group is not known on this device.',
  unknown_contact: 'That contact is not known on this device yet.',
  unknown_message: 'That message is not one this device sent (or it is gone), so it cannot be sent again from here.',
  send_failed: 'The message could not be sent.',
  closed: 'Sealpost was closed in this tab. Reload the page.',
  store_failed: 'This browser could not save Sealpost’s data (the disk may be full). Reload the page once there is space.',
  untrusted_device_list: 'The relay shows a list of this account’s devices that the account did not sign. Nothing is sent to those devices until this is resolved.',
  no_authority: 'Only the device that created the account (or recovered it) can do this. Do it there.',
  wrong_recovery_key: 'That recovery key does not belong to this account, or a character is mistyped.',
  device_removed: 'This device was removed from your account. It can no longer send or read new messages; erase it under Devices to start again.',
  unsupported_version: 'This data was made by an older version of Sealpost that this version cannot use. Erase this device and link it again (or recover the account).',
  profile_locked: 'Sealpost is open in another tab of this browser.',
  invalid_reply: 'The relay answered with something this app does not understand. Try again later; if it keeps happening, the relay may need an update.',
  too_large: 'That is too large to send.',
  quota_exceeded: 'The relay holds as many of your files as it allows. They are deleted 30 days after sending; try again later.',
  not_found: 'This file is no longer on the relay (files are kept 30 days).',
  digest_mismatch: 'The file did not arrive intact; it was not opened.',
  truncated: 'The file arrived incomplete; it was not opened. Try again.',
  file_changed: 'The file changed on this device while it was being sent. Attach it again.',
  cancelled: 'Cancelled.',
};

/** Codes of crypto/ reach the app only from decoding what a person typed: link codes and recovery keys. */
const CRYPTO_CODES: Record<CryptoErrorCode, string> = {
  invalid_encoding: 'That code is not valid: check it for a mistyped or missing character.',
  invalid_key: 'That code does not hold a valid key: check it for a mistyped character.',
  bad_signature: 'That code’s signature does not check out.',
  low_order_point: 'That code does not hold a valid key.',
  decrypt_failed: 'That code does not match this link. Start linking again on the new device and enter the new code.',
  replay: 'That was already used once.',
  too_many_skipped: 'Too many messages are missing to read this one.',
  bad_padding: 'That arrived damaged.',
  unsupported_version: 'That code was made by a different version of Sealpost. Update both devices to the same version.',
  unknown_prekey: 'A message was sealed to a key this device no longer has.',
  truncated: 'That arrived incomplete.',
  digest_mismatch: 'That did not arrive intact.',
};

/** crypto/'s own messages that are already written for people (recovery keys); others get CRYPTO_CODES. */
const PLAIN_CRYPTO_MESSAGES = [/is not a letter or digit of a recovery key/, /^a recovery key has \d+ letters and digits$/, /^the recovery key does not check out/];

function sentence(text: string): string {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** A short sentence for people, from an SDK error, a relay refusal or a crypto/ decoding error. */
export function describeError(error: unknown): string {
  if (error instanceof SdkError) {
    const handle = error.details.handle;
    const relayCode = error.details.relayCode;
    switch (error.code) {
      case 'relay_error':
        if (relayCode === 'not_found') return handle ? `No account called @${handle}.` : 'No account with that handle.';
        if (relayCode === 'invalid' && handle) return `The relay did not accept “${handle}” as a handle.`;
        return relayCode ? RELAY_CODES[relayCode] : SDK_CODES.relay_error;
      case 'send_failed':
        return relayCode ? RELAY_CODES[relayCode] : SDK_CODES.send_failed;
      case 'untrusted_device_list': {
        const whose = handle ? `${handle}’s` : 'this account’s';
        return `The relay shows a list of ${whose} devices that their account did not sign (or an older one than already seen). Nothing is sent to those devices until this is resolved.`;
      }
      case 'no_devices':
        return handle ? `@${handle} has no device that can receive messages.` : SDK_CODES.no_devices;
      case 'too_large':
        if (relayCode) return 'The relay does not accept a file this large.';
        // The SDK's own limits (file size, text length) say the numbers in plain words.
        return `Too large to send: ${error.message}.`;
      default:
        return SDK_CODES[error.code] ?? 'Something went wrong in Sealpost. Try again.';
    }
  }
  if (error instanceof CryptoError) {
    if (PLAIN_CRYPTO_MESSAGES.some((pattern) => pattern.test(error.message))) return sentence(error.message);
    if (/link code checksum/.test(error.message)) return 'That link code does not check out: a character is mistyped or missing. Copy it again, or compare it character by character.';
    if (/not a Sealpost link code/.test(error.message)) return 'That is not a Sealpost link code. Enter the code the new device shows under “Link to an existing account”.';
    return CRYPTO_CODES[error.code] ?? 'That code is not valid.';
  }
  if (error instanceof DOMException && error.name === 'QuotaExceededError') return SDK_CODES.store_failed;
  return error instanceof Error && error.message ? sentence(error.message) : 'Something went wrong. Try again.';
}

// ── Messages that failed to send ──────────────────────────────────────────────────────────

/** Failures that sending again can never fix: the app offers no Retry for them, only Delete. */
const PERMANENT_FAILURES = new Set(['too_large', 'invalid', 'invalid_content', 'not_a_member', 'unknown_group']);

export function isPermanentFailure(code: string | undefined): boolean {
  return code !== undefined && PERMANENT_FAILURES.has(code);
}

/** Whether an error thrown by a send can never succeed when tried again. */
export function isPermanentSendError(error: unknown): boolean {
  if (!(error instanceof SdkError)) return false;
  return isPermanentFailure(error.code) || isPermanentFailure(error.details.relayCode);
}

/** Why a stored message failed (its `failure`: the relay's or the SDK's code), in words. */
export function describeFailure(code: string | undefined): string {
  if (code === undefined) return 'Not sent.';
  if (code === 'too_large') return 'Not sent: too large for the relay. Shorten it, or send it as a file.';
  if (code === 'no_devices') return 'Not sent: no device of theirs can receive messages.';
  if (code === 'network') return 'Not sent: the relay could not be reached.';
  if (code === 'stale_devices') return 'Not sent: the relay kept refusing the list of devices this app verified.';
  const words = (RELAY_CODES as Record<string, string>)[code] ?? (SDK_CODES as Record<string, string>)[code];
  return words ? `Not sent. ${words}` : 'Not sent, for a reason this version of the app does not know.';
}

/** A text longer than a message holds, said before sending. */
export function describeTooLong(length: number, max: number): string {
  return `This message has ${length.toLocaleString('en')} characters; at most ${max.toLocaleString('en')} fit in one message. Shorten it, or send it as a file.`;
}

// ── Incoming trouble and device lists ─────────────────────────────────────────────────────

/** An incoming envelope that was dropped (`rejected`): what the user should know. */
export function describeRejection(code: string): string {
  if (code === 'decrypt_failed') return 'A message could not be decrypted on this device and was dropped. The sender’s app sends it again in a new secure session.';
  if (code === 'untrusted_sender') return 'A message came from a device its account did not sign, so it was dropped.';
  return 'A message arrived in a form this app cannot read, so it was dropped.';
}

const DEVICE_REFUSALS: Record<string, string> = {
  malformed: 'its keys are malformed',
  not_in_device_list: 'it is not in the account’s signed list of devices',
  invalid_signed_prekey: 'its key for starting conversations is not signed by it',
};

/** The relay lists a device its account did not sign for (`device_refused`). */
export function describeDeviceRefusal(handle: string, reason: string): string {
  return `The relay lists a device for ${handle} that their account did not sign for (${DEVICE_REFUSALS[reason] ?? 'it does not check out'}); nothing is sent to it.`;
}

const LIST_REFUSALS: Record<string, string> = {
  unsigned: 'it is not signed by their account',
  rollback: 'an older list than one already seen',
  fork: 'two different lists with the same version',
  future: 'a list dated in the future',
  wrong_handle: 'a list made for another account',
};

/** The relay served a device list we refuse (`device_list_refused`). */
export function describeListRefusal(handle: string, reason: string): string {
  return `The relay served a device list for ${handle} that cannot be trusted (${LIST_REFUSALS[reason] ?? 'it does not check out'}); nothing is sent to those devices.`;
}

// ── Connection ────────────────────────────────────────────────────────────────────────────

/**
 * The status line. "Connecting…" until the first connection, "Reconnecting…" only after one was
 * lost; "Offline" when the browser itself has no network (no use waiting for the relay then).
 */
export function connectionLabel(state: ConnectionState, everConnected: boolean, online: boolean): string {
  if (!online) return 'Offline: no network';
  if (state === 'connected') return 'Connected';
  if (state === 'offline') return 'Offline';
  return everConnected ? 'Reconnecting…' : 'Connecting…';
}

/** The longer explanation shown as the status's tooltip and to screen readers. */
export function describeConnection(state: ConnectionState, everConnected: boolean, online: boolean, reason: string | undefined): string {
  if (!online) return 'This device has no network connection. Messages you send wait here and go out once it is back.';
  if (state === 'connected') return 'Connected to the relay: messages go out now.';
  if (state === 'offline') {
    if (reason === 'unsupported_version') return RELAY_CODES.unsupported_version;
    if (reason === 'unknown_device') return RELAY_CODES.unknown_device;
    return 'Not connected to the relay. Messages you send wait here.';
  }
  return everConnected
    ? 'The connection to the relay was lost; trying again. Messages you send wait here and go out once it is back.'
    : 'Connecting to the relay…';
}

// ── Handles as typed ──────────────────────────────────────────────────────────────────────

/** Why a typed handle cannot be one, in words (see handle-input.ts). */
export function describeHandleInput(input: Exclude<HandleInput, { ok: true }>, typed: string): string {
  const shown = typed.trim();
  switch (input.problem) {
    case 'empty':
      return 'Type a handle, for example bob.';
    case 'too_short':
      return `“${shown}” is too short: a handle has at least 3 characters.`;
    case 'too_long':
      return `“${shown.slice(0, 40)}${shown.length > 40 ? '…' : ''}” is too long: a handle has at most 32 characters.`;
    case 'characters':
      return input.bad
        ? `“${shown.slice(0, 40)}” cannot be a handle: it contains ${[...input.bad].map((c) => (c === ' ' ? 'a space' : `“${c}”`)).join(', ')}. Handles use only a–z, 0–9, “_”, “.” and “-”.`
        : `“${shown.slice(0, 40)}” cannot be a handle. Handles use only a–z, 0–9, “_”, “.” and “-”.`;
  }
}
