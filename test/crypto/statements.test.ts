/** Each signed statement verifies, and no signature made for one label verifies as another. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deviceIdOf, generateDhKeyPair, generateSigningKeyPair, ready, signDeviceList, signHandshake, signRequest,
  signSignedPrekey, utf8, toBase64Url, verifyDeviceList, verifyHandshake, verifyRequest, verifySignedPrekey, fromBase64Url,
} from '../../crypto/index.js';
import { codeOf } from './helpers.js';

beforeAll(async () => {
  await ready();
});

describe('signed statements', () => {
  const setup = () => {
    const authority = generateSigningKeyPair();
    const device = generateSigningKeyPair();
    const prekey = { devicePublicKey: device.publicKey, keyId: 7, publicKey: generateDhKeyPair().publicKey };
    const handshake = { relayHost: 'relay.example:8443', deviceId: deviceIdOf(device.publicKey), timestamp: 1_700_000_000_000, nonce: 'AAAAAAAAAAAAAAAAAAAAAA' };
    const request = { relayHost: 'relay.example:8443', method: 'PUT', path: '/v2/devices/x/prekeys', timestamp: 1_700_000_000_000, nonce: 'AAAAAAAAAAAAAAAAAAAAAA', body: utf8('{}') };
    const list = { handle: 'alice', version: 1, time: 1_700_000_000_000, devices: [{ deviceId: deviceIdOf(device.publicKey), createdAt: 1_700_000_000_000 }] };
    return { authority, device, prekey, handshake, request, list };
  };

  it('a signed prekey is signed by its own device key (v2); anything else is bad_signature', () => {
    const { authority, device, prekey } = setup();
    const signature = signSignedPrekey(prekey, device.privateKey);
    expect(() => verifySignedPrekey(prekey, signature)).not.toThrow();
    const bad = Uint8Array.from(signature);
    bad[10] = (bad[10] as number) ^ 1;
    expect(codeOf(() => verifySignedPrekey(prekey, bad))).toBe('bad_signature');
    expect(codeOf(() => verifySignedPrekey({ ...prekey, keyId: 8 }, signature))).toBe('bad_signature');
    expect(codeOf(() => verifySignedPrekey({ ...prekey, publicKey: generateDhKeyPair().publicKey }, signature))).toBe('bad_signature');
    expect(codeOf(() => verifySignedPrekey(prekey, signature.slice(0, 63)))).toBe('bad_signature');
    // v1 signed prekeys with the account key: no longer accepted.
    expect(codeOf(() => verifySignedPrekey(prekey, signSignedPrekey(prekey, authority.privateKey)))).toBe('bad_signature');
    // A prekey cannot be moved to another device: the signature names the device it belongs to.
    const other = generateSigningKeyPair();
    expect(codeOf(() => verifySignedPrekey({ ...prekey, devicePublicKey: other.publicKey }, signature))).toBe('bad_signature');
  });

  it('handshake and request signatures verify and bind every field', () => {
    const { device, handshake, request } = setup();
    const hs = signHandshake(handshake, device.privateKey);
    expect(verifyHandshake(handshake, hs, device.publicKey)).toBe(true);
    expect(verifyHandshake({ ...handshake, relayHost: 'other.example' }, hs, device.publicKey)).toBe(false);
    expect(verifyHandshake({ ...handshake, deviceId: deviceIdOf(generateSigningKeyPair().publicKey) }, hs, device.publicKey)).toBe(false);
    expect(verifyHandshake({ ...handshake, timestamp: handshake.timestamp + 1 }, hs, device.publicKey)).toBe(false);
    expect(verifyHandshake({ ...handshake, nonce: 'BAAAAAAAAAAAAAAAAAAAAA' }, hs, device.publicKey)).toBe(false);
    expect(verifyHandshake(handshake, hs, generateSigningKeyPair().publicKey)).toBe(false);
    const rq = signRequest(request, device.privateKey);
    expect(verifyRequest(request, rq, device.publicKey)).toBe(true);
    expect(verifyRequest({ ...request, relayHost: 'other.example' }, rq, device.publicKey)).toBe(false);
    expect(verifyRequest({ ...request, method: 'POST' }, rq, device.publicKey)).toBe(false);
    expect(verifyRequest({ ...request, path: '/v2/devices/y/prekeys' }, rq, device.publicKey)).toBe(false);
    expect(verifyRequest({ ...request, timestamp: request.timestamp + 1 }, rq, device.publicKey)).toBe(false);
    expect(verifyRequest({ ...request, nonce: 'BAAAAAAAAAAAAAAAAAAAAA' }, rq, device.publicKey)).toBe(false);
    expect(verifyRequest({ ...request, body: utf8('{ }') }, rq, device.publicKey)).toBe(false);
    expect(verifyRequest({ ...request, body: new Uint8Array(0) }, rq, device.publicKey)).toBe(false);
    expect(verifyRequest(request, rq, generateSigningKeyPair().publicKey)).toBe(false);
  });

  it('a signature for one label never verifies as another', () => {
    const { prekey, handshake, request, list } = setup();
    // One key signs everything here, so only the label separates the statements.
    const key = generateSigningKeyPair();
    const ownPrekey = { ...prekey, devicePublicKey: key.publicKey };
    const sigs = {
      prekey: signSignedPrekey(ownPrekey, key.privateKey),
      handshake: signHandshake(handshake, key.privateKey),
      request: signRequest(request, key.privateKey),
      deviceList: fromBase64Url(signDeviceList(list, key.privateKey).signature, 64),
    };
    expect(Object.values(sigs).every((s) => s.length === 64)).toBe(true);
    for (const [name, sig] of Object.entries(sigs)) {
      expect(codeOf(() => verifySignedPrekey(ownPrekey, sig))).toBe(name === 'prekey' ? undefined : 'bad_signature');
      expect(verifyHandshake(handshake, sig, key.publicKey)).toBe(name === 'handshake');
      expect(verifyRequest(request, sig, key.publicKey)).toBe(name === 'request');
      const asList = { ...list, signature: toBase64Url(sig) };
      expect(codeOf(() => verifyDeviceList(asList, key.publicKey))).toBe(name === 'deviceList' ? undefined : 'bad_signature');
    }
  });
});
