/**
 * The typed form of a link code (crypto/link.ts, docs/PROTOCOL.md §14.1): Crockford base32 that
 * survives case, spaces, dashes and the letters people read as digits, and decodes to exactly
 * what the "spl2." form decodes to.
 */
import { describe, expect, it } from 'vitest';
import {
  createLinkSecret, decodeLinkCode, deviceIdOf, encodeLinkCode, generateSigningKeyPair, ready, typedLinkCode,
  TYPED_LINK_CODE_CHARACTERS,
} from '../../crypto/index.js';
import { fromBase32, toBase32 } from '../../crypto/base32.js';
import { codeOf } from './helpers.js';

await ready();

describe('typed link codes', () => {
  it('base32 matches Crockford’s alphabet on a known value and round trips every length', () => {
    // "foobar" in Crockford base32 (RFC 4648 base32 is MZXW6YTBOI; the alphabets differ).
    expect(toBase32(new TextEncoder().encode('foobar'))).toBe('CSQPYRK1E8');
    for (let n = 1; n < 40; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
      expect(fromBase32(toBase32(bytes), n)).toEqual(bytes);
    }
    expect(codeOf(() => fromBase32('CSQPYRK1E9', 6))).toBe('invalid_encoding'); // stray low bits
  });

  it('groups 80 characters by 5 and decodes to the same device and secret as the spl2. form', () => {
    const device = generateSigningKeyPair();
    const secret = createLinkSecret();
    const code = encodeLinkCode(deviceIdOf(device.publicKey), secret);
    const typed = typedLinkCode(code);
    expect(typed).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){15}$/);
    expect(typed.replaceAll('-', '').length).toBe(TYPED_LINK_CODE_CHARACTERS);
    const expected = { deviceId: deviceIdOf(device.publicKey), linkSecret: secret };
    expect(decodeLinkCode(typed)).toEqual(expected);
    // What people do to a code: lower case, spaces instead of dashes, no separators, line breaks,
    // O for 0 and l for 1, the spl2. form broken over two lines.
    expect(decodeLinkCode(typed.toLowerCase())).toEqual(expected);
    expect(decodeLinkCode(typed.replaceAll('-', ' '))).toEqual(expected);
    expect(decodeLinkCode(` ${typed.replaceAll('-', '')}\n`)).toEqual(expected);
    expect(decodeLinkCode(typed.replaceAll('-', '–'))).toEqual(expected);
    expect(decodeLinkCode(typed.replaceAll('0', 'O').replaceAll('1', 'l'))).toEqual(expected);
    expect(decodeLinkCode(`${code.slice(0, 30)}\n ${code.slice(30)}`)).toEqual(expected);
  });

  it('refuses a typo, a missing group and what is not a code', () => {
    const code = encodeLinkCode(deviceIdOf(generateSigningKeyPair().publicKey), createLinkSecret());
    const typed = typedLinkCode(code);
    const typo = typed.slice(0, 20) + (typed[20] === 'A' ? 'B' : 'A') + typed.slice(21);
    expect(['invalid_encoding', 'invalid_key']).toContain(codeOf(() => decodeLinkCode(typo)));
    expect(codeOf(() => decodeLinkCode(typed.slice(0, -6)))).toBe('invalid_encoding');
    expect(codeOf(() => decodeLinkCode('hello there'))).toBe('invalid_encoding');
    expect(codeOf(() => decodeLinkCode(''))).toBe('invalid_encoding');
  });
});
