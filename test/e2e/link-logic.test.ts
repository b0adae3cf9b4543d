/**
 * The web client's link and device-name wording, as pure functions (client/app/src/model/
 * link-code.ts, device-name.ts): what people are told about a code they typed, when a shown
 * code expires, and the name a browser suggests for itself.
 */
import { describe, expect, it } from 'vitest';
import { createLinkSecret, deviceIdOf, encodeLinkCode, generateSigningKeyPair, ready } from '../../crypto/index.js';
import { deviceNameProblem, suggestDeviceName } from '../../client/app/src/model/device-name.js';
import { expiryText, linkCodeProblem, shownLinkCode } from '../../client/app/src/model/link-code.js';
import { timeLabel } from '../../client/app/src/model/timeline.js';

await ready();

describe('link codes in words', () => {
  const code = shownLinkCode(encodeLinkCode(deviceIdOf(generateSigningKeyPair().publicKey), createLinkSecret()));

  it('accepts the shown code however it was typed', () => {
    for (const typed of [code, code.toLowerCase(), code.replaceAll('-', ' '), code.replaceAll('-', ''), ` ${code}\n`]) {
      expect(linkCodeProblem(typed)).toBeUndefined();
    }
  });

  it('says what is wrong, never a checksum or an error code', () => {
    const typo = code.slice(0, 7) + (code[7] === 'A' ? 'B' : 'A') + code.slice(8);
    expect(linkCodeProblem(typo)).toBe('That code has a typo: check it against the other device.');
    expect(linkCodeProblem(code.slice(0, -6))).toMatch(/^That code is too short: part of it is missing/);
    expect(linkCodeProblem(`${code}-ABCDE`)).toMatch(/^That code is too long/);
    expect(linkCodeProblem('hello, world!')).toMatch(/^That is not a link code/);
    expect(linkCodeProblem('   ')).toBe('Enter the code the new device shows.');
    expect(linkCodeProblem('spl1.abc')).toMatch(/different version of Sealpost/);
    for (const bad of [typo, code.slice(0, -6), 'hello, world!', 'spl2.AAAA']) {
      expect(linkCodeProblem(bad)).not.toMatch(/checksum|invalid|encoding|\(/);
    }
  });

  it('tells when a code expires, in minutes rounded up', () => {
    const at = Date.UTC(2026, 0, 1, 14, 5);
    expect(expiryText(at, at - 10 * 60_000)).toBe(`expires at ${timeLabel(at)}, in 10 minutes`);
    expect(expiryText(at, at - 8 * 60_000 - 1)).toBe(`expires at ${timeLabel(at)}, in 9 minutes`);
    expect(expiryText(at, at - 61_000)).toBe(`expires at ${timeLabel(at)}, in 2 minutes`);
    expect(expiryText(at, at - 60_000)).toBe(`expires at ${timeLabel(at)}, in 1 minute`);
    expect(expiryText(at, at - 5_000)).toBe(`expires at ${timeLabel(at)}, in less than a minute`);
    expect(expiryText(at, at)).toBe(`expired at ${timeLabel(at)}`);
  });
});

describe('suggested device names', () => {
  it('names the browser and the platform', () => {
    expect(suggestDeviceName({
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36',
      userAgentData: { brands: [{ brand: 'Not_A Brand' }, { brand: 'Chromium' }], platform: 'Linux' },
    })).toBe('Chromium on Linux');
    expect(suggestDeviceName({
      userAgent: '',
      userAgentData: { brands: [{ brand: 'Chromium' }, { brand: 'Google Chrome' }], platform: 'Windows' },
    })).toBe('Chrome on Windows');
    expect(suggestDeviceName({ userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0' })).toBe('Firefox on Windows');
    expect(suggestDeviceName({
      userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
    })).toBe('Safari on iPhone');
    expect(suggestDeviceName({ userAgent: 'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36' })).toBe('Chrome on Android');
    expect(suggestDeviceName({ userAgent: 'something else' })).toBe('This browser');
  });

  it('says what is wrong with a typed name', () => {
    expect(deviceNameProblem('  Work laptop ')).toBeUndefined();
    expect(deviceNameProblem('   ')).toBe('Enter a name for the device.');
    expect(deviceNameProblem('x'.repeat(65))).toBe('A device name has at most 64 characters.');
  });
});
