/**
 * Issue 19's rough edges, part 5: wording meant for developers never reaches the screen. Every
 * code the SDK, the relay and crypto/ can produce goes through describe-error.ts, the one owner
 * of wording; here each one is put through it and the sentence checked for a snake_case code.
 * (The Chromium suites check the screens themselves with rawCodesShown.)
 */
import { describe, expect, it } from 'vitest';
import {
  CryptoError, createLinkSecret, decodeLinkCode, decodeRecoveryKey, deviceIdOf, encodeLinkCode, generateSigningKeyPair, ready, type CryptoErrorCode,
} from '../../crypto/index.js';
import { SdkError, type SdkErrorCode } from '../../client/sdk/index.js';
import type { ErrorCode } from '../../protocol/errors.js';
import {
  connectionLabel, describeConnection, describeDeviceRefusal, describeError, describeFailure, describeHandleInput, describeListRefusal,
  describeRejection, describeSendProblem, describeTooLong, isPermanentFailure,
} from '../../client/app/src/model/describe-error.js';
import { parseHandle, parseHandles } from '../../client/app/src/model/handle-input.js';
import { readHandover } from '../../client/app/src/model/handover.js';
import { notificationContent, unreadTitle } from '../../client/app/src/model/notifications.js';

const SNAKE = /\b[a-z]+(?:_[a-z]+)+\b/;

const SDK_CODES: SdkErrorCode[] = [
  'not_registered', 'already_registered', 'relay_error', 'network', 'identity_changed', 'untrusted_device', 'untrusted_sender', 'no_devices',
  'decrypt_failed', 'invalid_content', 'link_timeout', 'not_a_member', 'not_an_admin', 'unknown_group', 'unknown_contact', 'unknown_message',
  'send_failed', 'closed', 'store_failed', 'untrusted_device_list', 'no_authority', 'wrong_recovery_key', 'device_removed', 'unsupported_version',
  'profile_locked', 'invalid_reply', 'too_large', 'quota_exceeded', 'not_found', 'digest_mismatch', 'truncated', 'file_changed', 'cancelled',
];
const RELAY_CODES: ErrorCode[] = [
  'invalid', 'too_large', 'rate_limited', 'quota_exceeded', 'unknown_device', 'not_found', 'unauthorized', 'stale_timestamp', 'replayed_nonce',
  'bad_signature', 'forbidden', 'conflict', 'unavailable', 'unsupported_version', 'stale_devices', 'internal',
];
const CRYPTO_CODES: CryptoErrorCode[] = [
  'invalid_encoding', 'invalid_key', 'bad_signature', 'low_order_point', 'decrypt_failed', 'replay', 'too_many_skipped', 'bad_padding',
  'unsupported_version', 'unknown_prekey', 'truncated', 'digest_mismatch',
];

function expectWords(text: string, about: string): void {
  expect(text, about).not.toMatch(SNAKE);
  expect(text, about).toMatch(/^[A-Z“@]/);
  expect(text, about).toMatch(/[.…)]$/);
}

describe('errors in words, never codes', () => {
  it('has words for every SDK code, with and without a relay code, and for every relay code', () => {
    for (const code of SDK_CODES) {
      // The SDK's own message is never shown, except the numbers of its size limits (written for people).
      if (code !== 'too_large') expectWords(describeError(new SdkError(code, 'internal_detail with_codes')), code);
      for (const relayCode of RELAY_CODES) expectWords(describeError(new SdkError(code, 'x', { relayCode })), `${code}/${relayCode}`);
    }
    expect(describeError(new SdkError('too_large', 'a text is at most 16000 characters; this one has 70000'))).toBe('Too large to send: a text is at most 16000 characters; this one has 70000.');
    // The relay's schema errors (e.g. 'params/handle must match pattern') never show.
    const schema = new SdkError('relay_error', 'params/handle must match pattern "^[a-z0-9_.-]{3,32}$"', { relayCode: 'invalid', status: 400 });
    expect(describeError(schema)).not.toMatch(/pattern|params/);
  });

  it('names the account that does not exist', () => {
    expect(describeError(new SdkError('relay_error', 'no such account', { relayCode: 'not_found', handle: 'bob' }))).toBe('No account called @bob.');
  });

  it('has words for every crypto code, and for the link code and recovery key people mistype', async () => {
    await ready();
    for (const code of CRYPTO_CODES) expectWords(describeError(new CryptoError(code, 'link code checksum does not match (mistyped?)')), code);
    const code = encodeLinkCode(deviceIdOf(generateSigningKeyPair().publicKey), createLinkSecret());
    // One character changed in the secret's part: the code still decodes, its check does not match.
    const at = code.length - 6;
    const mistyped = code.slice(0, at) + (code[at] === 'A' ? 'B' : 'A') + code.slice(at + 1);
    let thrown: unknown;
    try {
      decodeLinkCode(mistyped);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(CryptoError);
    expect(describeError(thrown)).toBe('That link code does not check out: a character is mistyped or missing. Copy it again, or compare it character by character.');
    for (const key of ['', 'not-a-key!', 'A'.repeat(60)]) {
      let error: unknown;
      try {
        decodeRecoveryKey(key);
      } catch (caught) {
        error = caught;
      }
      expectWords(describeError(error), `recovery key ${JSON.stringify(key)}`);
    }
  });

  it('puts failed messages, rejections, refusals and unknown send problems in words', () => {
    for (const code of [...SDK_CODES, ...RELAY_CODES, 'something_new', undefined]) expectWords(describeFailure(code), String(code));
    for (const code of ['decrypt_failed', 'untrusted_sender', 'invalid_content', 'something_new']) expectWords(describeRejection(code), code);
    for (const reason of ['malformed', 'not_in_device_list', 'invalid_signed_prekey', 'new_reason']) expectWords(describeDeviceRefusal('bob', reason), reason);
    for (const reason of ['unsigned', 'rollback', 'fork', 'future', 'wrong_handle', 'new_reason']) expectWords(describeListRefusal('bob', reason), reason);
    for (const code of ['untrusted_device', 'decrypt_failed', 'something_new']) expectWords(describeSendProblem({ handle: 'bob', code }, 'alice'), code);
    expect(describeFailure('too_large')).toBe('Not sent: too large for the relay. Shorten it, or send it as a file.');
    expect(describeTooLong(70_000, 16_000)).toBe('This message has 70,000 characters; at most 16,000 fit in one message. Shorten it, or send it as a file.');
  });

  it('offers no Retry only for failures that can never succeed, also after a handover to another tab', () => {
    expect(isPermanentFailure('too_large')).toBe(true);
    const handed = readHandover([{ conversation: { kind: 'direct', handle: 'bob' }, text: 'x', ts: 1, reason: 'Too large', retryOnReconnect: false, permanent: true }]);
    expect(handed.map((u) => u.permanent)).toEqual([true]);
    for (const code of ['network', 'rate_limited', 'stale_devices', 'untrusted_device_list', 'quota_exceeded', undefined]) expect(isPermanentFailure(code), String(code)).toBe(false);
  });

  it('labels the connection: Connecting before the first connection, Reconnecting after, Offline without a network', () => {
    expect(connectionLabel('connecting', false, true)).toBe('Connecting…');
    expect(connectionLabel('connecting', true, true)).toBe('Reconnecting…');
    expect(connectionLabel('connected', true, true)).toBe('Connected');
    expect(connectionLabel('connecting', true, false)).toBe('Offline: no network');
    expect(connectionLabel('offline', true, true)).toBe('Offline');
    for (const reason of ['transport close', 'unsupported_version', 'unknown_device', undefined]) {
      expectWords(describeConnection('offline', true, true, reason), String(reason));
      expectWords(describeConnection('connecting', true, true, reason), String(reason));
    }
  });
});

describe('handles as typed', () => {
  it('strips one leading @ and spaces and lower-cases', () => {
    expect(parseHandle('  @Bob ')).toEqual({ ok: true, handle: 'bob' });
    expect(parseHandle('bob.smith-2_x')).toEqual({ ok: true, handle: 'bob.smith-2_x' });
    expect(parseHandles('@bob, @Carol dave')).toEqual([{ ok: true, handle: 'bob' }, { ok: true, handle: 'carol' }, { ok: true, handle: 'dave' }]);
  });

  it('says what is wrong in words', () => {
    const say = (typed: string) => {
      const parsed = parseHandle(typed);
      if (parsed.ok) throw new Error(`${typed} parsed`);
      return describeHandleInput(parsed, typed);
    };
    expect(say('')).toBe('Type a handle, for example bob.');
    expect(say('@b')).toBe('“@b” is too short: a handle has at least 3 characters.');
    expect(say('x'.repeat(33))).toMatch(/is too long: a handle has at most 32 characters\.$/);
    expect(say('@@bob')).toMatch(/contains “@”/);
    expect(say('bob smith')).toMatch(/contains a space/);
    expect(say('bøb')).toMatch(/contains “ø”/);
  });
});

describe('notifications', () => {
  it('show as much as the preview choice allows', () => {
    expect(notificationContent('full', 'bob', 'bob', 'hi there')).toEqual({ title: 'Sealpost · bob', body: 'hi there' });
    expect(notificationContent('full', 'Team', 'bob', 'hi there')).toEqual({ title: 'Sealpost · Team', body: 'bob: hi there' });
    expect(notificationContent('sender', 'Team', 'bob', 'hi there')).toEqual({ title: 'Sealpost · Team', body: 'New message from bob' });
    expect(notificationContent('none', 'Team', 'bob', 'hi there')).toEqual({ title: 'Sealpost', body: 'New message' });
  });

  it('count unread messages in the tab title', () => {
    expect(unreadTitle(0)).toBe('Sealpost');
    expect(unreadTitle(3)).toBe('(3) Sealpost');
  });
});
