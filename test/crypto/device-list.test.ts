/**
 * The signed device list (crypto/device-list.ts): the authority's statement of an account's
 * devices. Every change to what was signed must fail verification; malformed lists are refused
 * before any signature is checked; the head identifies exactly one list.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { DeviceListBody, SignedDeviceList } from '../../crypto/index.js';
import {
  MAX_LIST_DEVICES, deviceIdOf, fromBase64Url, deviceListHead, deviceListStatement, generateSigningKeyPair, ready, sameHead,
  signDeviceList, verifyDeviceList,
} from '../../crypto/index.js';
import { codeOf } from './helpers.js';

beforeAll(async () => {
  await ready();
});

const T = 1_700_000_000_000;
const newDeviceId = (): string => deviceIdOf(generateSigningKeyPair().publicKey);

function setup(deviceCount = 3) {
  const authority = generateSigningKeyPair();
  const devices = Array.from({ length: deviceCount }, (_, i) => ({ deviceId: newDeviceId(), createdAt: T - 1000 * (i + 1) }));
  const body: DeviceListBody = { handle: 'alice', version: 4, time: T, devices };
  const signed = signDeviceList(body, authority.privateKey);
  return { authority, body, signed };
}

/** Canonical order is by key BYTES. Not the base64url text's code-unit order: '-' < '0'-'9' < 'A'-'Z' < '_' < 'a'-'z' in ASCII, but 'A' = 0 … '_' = 63 in base64url. */
const byKeyBytes = (a: string, b: string): number => {
  const x = fromBase64Url(a);
  const y = fromBase64Url(b);
  for (let i = 0; i < 32; i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return 0;
};
const sorted = (ids: string[]): string[] => [...ids].sort(byKeyBytes);

describe('device list: sign and verify', () => {
  it('round trips, and the signed form is in canonical order whatever the input order', () => {
    const { authority, body, signed } = setup(5);
    expect(() => verifyDeviceList(signed, authority.publicKey)).not.toThrow();
    expect(signed.devices.map((d) => d.deviceId)).toEqual(sorted(body.devices.map((d) => d.deviceId)));
    expect(signed.devices.map((d) => d.createdAt)).toEqual(signed.devices.map((d) => body.devices.find((b) => b.deviceId === d.deviceId)?.createdAt));
    const reversed = signDeviceList({ ...body, devices: [...body.devices].reverse() }, authority.privateKey);
    expect(reversed).toEqual(signed); // same statement, deterministic Ed25519
    expect({ handle: signed.handle, version: signed.version, time: signed.time }).toEqual({ handle: 'alice', version: 4, time: T });
    expect(signed.signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
  });

  it('canonical order is by key bytes, not by the text of the device ids', () => {
    const authority = generateSigningKeyPair();
    // Find two devices whose text order and byte order disagree (e.g. ids starting "0…" and "A…").
    let pair: string[] | undefined;
    while (!pair) {
      const ids = [newDeviceId(), newDeviceId()];
      if ([...ids].sort().join() !== [...ids].sort(byKeyBytes).join()) pair = ids;
    }
    const signed = signDeviceList({ handle: 'alice', version: 1, time: T, devices: pair.map((deviceId) => ({ deviceId, createdAt: T })) }, authority.privateKey);
    expect(signed.devices.map((d) => d.deviceId)).toEqual([...pair].sort(byKeyBytes));
    const textOrder = { ...signed, devices: [...signed.devices].sort((a, b) => (a.deviceId < b.deviceId ? -1 : 1)) };
    expect(codeOf(() => verifyDeviceList(textOrder, authority.publicKey))).toBe('invalid_encoding');
  });

  it('does not alias the caller\'s device objects', () => {
    const { body, signed } = setup(2);
    const first = signed.devices[0] as { createdAt: number };
    first.createdAt = 1;
    expect(body.devices.every((d) => d.createdAt !== 1)).toBe(true);
  });

  it('every tampering with a signed list fails with bad_signature', () => {
    const { authority, body, signed } = setup(3);
    const bad = (list: SignedDeviceList): string | undefined => codeOf(() => verifyDeviceList(list, authority.publicKey));
    const withDevices = (devices: SignedDeviceList['devices']): SignedDeviceList => ({ ...signed, devices: [...devices].sort((a, b) => byKeyBytes(a.deviceId, b.deviceId)) });
    expect(bad({ ...signed, handle: 'alicf' })).toBe('bad_signature');
    expect(bad({ ...signed, version: signed.version + 1 })).toBe('bad_signature');
    expect(bad({ ...signed, version: signed.version - 1 })).toBe('bad_signature');
    expect(bad({ ...signed, time: signed.time + 1 })).toBe('bad_signature');
    // A device added, removed, or its createdAt changed.
    expect(bad(withDevices([...signed.devices, { deviceId: newDeviceId(), createdAt: T }]))).toBe('bad_signature');
    expect(bad(withDevices(signed.devices.slice(1)))).toBe('bad_signature');
    expect(bad(withDevices(signed.devices.map((d, i) => (i === 1 ? { ...d, createdAt: d.createdAt + 1 } : d))))).toBe('bad_signature');
    // A device swapped for another.
    expect(bad(withDevices(signed.devices.map((d, i) => (i === 0 ? { ...d, deviceId: newDeviceId() } : d))))).toBe('bad_signature');
    // Signed by another key (e.g. a linked device's own key, or the relay's).
    const forged = signDeviceList(body, generateSigningKeyPair().privateKey);
    expect(bad(forged)).toBe('bad_signature');
    // A flipped bit in the signature.
    const sig = signed.signature;
    expect(bad({ ...signed, signature: (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1) })).toBe('bad_signature');
    // The untouched list still verifies (the checks above did not pass by accident).
    expect(bad(signed)).toBeUndefined();
  });

  it('the signature of version n does not carry over to version n+1 (same devices, or one more)', () => {
    const { authority, body, signed } = setup(2);
    const next: DeviceListBody = { ...body, version: body.version + 1, time: body.time + 60_000 };
    const nextSigned = signDeviceList(next, authority.privateKey);
    expect(codeOf(() => verifyDeviceList({ ...nextSigned, signature: signed.signature }, authority.publicKey))).toBe('bad_signature');
    const grown = signDeviceList({ ...next, devices: [...next.devices, { deviceId: newDeviceId(), createdAt: next.time }] }, authority.privateKey);
    expect(codeOf(() => verifyDeviceList({ ...grown, signature: signed.signature }, authority.publicKey))).toBe('bad_signature');
    expect(codeOf(() => verifyDeviceList({ ...signed, signature: grown.signature }, authority.publicKey))).toBe('bad_signature');
  });

  it('a list not in canonical order is refused even though its signature is good', () => {
    const { authority, signed } = setup(3);
    const reordered = { ...signed, devices: [...signed.devices].reverse() };
    expect(codeOf(() => verifyDeviceList(reordered, authority.publicKey))).toBe('invalid_encoding');
  });

  it('a device listed twice is refused, when signing and when verifying', () => {
    const { authority, body, signed } = setup(2);
    const twice = [...body.devices, { ...(body.devices[0] as { deviceId: string; createdAt: number }) }];
    expect(codeOf(() => signDeviceList({ ...body, devices: twice }, authority.privateKey))).toBe('invalid_encoding');
    const sameIdOtherDate = [...body.devices, { deviceId: (body.devices[0] as { deviceId: string }).deviceId, createdAt: T - 5 }];
    expect(codeOf(() => signDeviceList({ ...body, devices: sameIdOtherDate }, authority.privateKey))).toBe('invalid_encoding');
    const first = signed.devices[0] as { deviceId: string; createdAt: number };
    expect(codeOf(() => verifyDeviceList({ ...signed, devices: [first, ...signed.devices] }, authority.publicKey))).toBe('invalid_encoding');
  });

  it('a device dated after the list is refused', () => {
    const { authority, body, signed } = setup(2);
    const late = body.devices.map((d, i) => (i === 0 ? { ...d, createdAt: body.time + 1 } : d));
    expect(codeOf(() => signDeviceList({ ...body, devices: late }, authority.privateKey))).toBe('invalid_encoding');
    expect(codeOf(() => verifyDeviceList({ ...signed, time: Math.min(...body.devices.map((d) => d.createdAt)) - 1 }, authority.publicKey))).toBe('invalid_encoding');
    // Dated exactly at the list's time is fine (a device added by this very list).
    expect(() => signDeviceList({ ...body, devices: [{ deviceId: newDeviceId(), createdAt: body.time }] }, authority.privateKey)).not.toThrow();
  });

  it(`an empty list and one of more than ${MAX_LIST_DEVICES} devices are refused`, () => {
    const { authority, body, signed } = setup(1);
    expect(codeOf(() => signDeviceList({ ...body, devices: [] }, authority.privateKey))).toBe('invalid_encoding');
    expect(codeOf(() => verifyDeviceList({ ...signed, devices: [] }, authority.publicKey))).toBe('invalid_encoding');
    const many = Array.from({ length: MAX_LIST_DEVICES + 1 }, () => ({ deviceId: newDeviceId(), createdAt: T }));
    expect(codeOf(() => signDeviceList({ ...body, devices: many }, authority.privateKey))).toBe('invalid_encoding');
    expect(() => signDeviceList({ ...body, devices: many.slice(0, MAX_LIST_DEVICES) }, authority.privateKey)).not.toThrow();
  });

  it('malformed fields are invalid_encoding, never a crash', () => {
    const { authority, body, signed } = setup(1);
    for (const version of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.NaN]) {
      expect(codeOf(() => signDeviceList({ ...body, version }, authority.privateKey))).toBe('invalid_encoding');
    }
    expect(codeOf(() => signDeviceList({ ...body, time: -1 }, authority.privateKey))).toBe('invalid_encoding');
    expect(codeOf(() => signDeviceList({ ...body, devices: [{ deviceId: 'not-a-key', createdAt: T }] }, authority.privateKey))).toBe('invalid_encoding');
    // 32 bytes that are not a valid Ed25519 public key.
    expect(codeOf(() => signDeviceList({ ...body, devices: [{ deviceId: 'A'.repeat(43), createdAt: T }] }, authority.privateKey))).toBe('invalid_key');
    expect(codeOf(() => verifyDeviceList({ ...signed, signature: signed.signature.slice(0, 80) }, authority.publicKey))).toBe('invalid_encoding');
    expect(codeOf(() => verifyDeviceList(signed, new Uint8Array(31)))).toBe('bad_signature');
  });
});

describe('device list head', () => {
  it('is equal for equal lists (whatever the device order) and independent of the signature', () => {
    const { authority, body, signed } = setup(3);
    const head = deviceListHead(signed);
    expect(head.version).toBe(body.version);
    expect(head.hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(deviceListHead(body)).toEqual(head);
    expect(deviceListHead({ ...body, devices: [...body.devices].reverse() })).toEqual(head);
    expect(deviceListHead(signDeviceList(body, authority.privateKey))).toEqual(head);
    expect(sameHead(head, deviceListHead(structuredClone(body)))).toBe(true);
  });

  it('changes with any signed field', () => {
    const { body } = setup(3);
    const head = deviceListHead(body);
    const variants: DeviceListBody[] = [
      { ...body, handle: 'alicf' },
      { ...body, version: body.version + 1 },
      { ...body, time: body.time + 1 },
      { ...body, devices: [...body.devices, { deviceId: newDeviceId(), createdAt: T }] },
      { ...body, devices: body.devices.slice(1) },
      { ...body, devices: body.devices.map((d, i) => (i === 2 ? { ...d, createdAt: d.createdAt + 1 } : d)) },
      { ...body, devices: body.devices.map((d, i) => (i === 0 ? { ...d, deviceId: newDeviceId() } : d)) },
    ];
    const hashes = new Set([head.hash]);
    for (const variant of variants) {
      const other = deviceListHead(variant);
      expect(sameHead(other, head)).toBe(false);
      hashes.add(other.hash);
    }
    expect(hashes.size).toBe(variants.length + 1);
    // Same version, other content: the head's hash tells the fork apart.
    const fork = deviceListHead({ ...body, devices: body.devices.slice(1) });
    expect(fork.version).toBe(head.version);
    expect(fork.hash).not.toBe(head.hash);
  });

  it('sameHead is false when either side is missing', () => {
    const head = deviceListHead(setup(1).body);
    expect(sameHead(head, undefined)).toBe(false);
    expect(sameHead(undefined, head)).toBe(false);
    expect(sameHead(undefined, undefined)).toBe(false);
  });

  it('hashes the exact statement bytes that the authority signs', () => {
    const { body } = setup(2);
    const statement = deviceListStatement(body);
    expect(new TextDecoder().decode(statement.slice(0, 24))).toBe('sealpost/v2/device-list\0');
    // label(23) + NUL + (2+5 handle) + (2+8 version) + (2+8 time) + 2 × (2+32+8)
    expect(statement.length).toBe(24 + 7 + 10 + 10 + 2 * 42);
  });
});
