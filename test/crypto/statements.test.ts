/** Each signed statement verifies, and no signature made for one label verifies as another. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  deviceIdOf, generateDhKeyPair, generateSigningKeyPair, ready, signDeviceCertificate, signHandshake,
  signRequest, signSignedPrekey, utf8, verifyDeviceCertificate, verifyHandshake, verifyRequest, verifySignedPrekey,
} from '../../crypto/index.js';
import { codeOf } from './helpers.js';

beforeAll(async () => {
  await ready();
});

describe('signed statements', () => {
  const setup = () => {
    const identity = generateSigningKeyPair();
    const device = generateSigningKeyPair();
    const certificate = { devicePublicKey: device.publicKey, handle: 'alice', createdAt: 1_700_000_000_000 };
    const prekey = { devicePublicKey: device.publicKey, keyId: 7, publicKey: generateDhKeyPair().publicKey };
    const handshake = { relayHost: 'relay.example:8443', deviceId: deviceIdOf(device.publicKey), timestamp: 1_700_000_000_000, nonce: 'AAAAAAAAAAAAAAAAAAAAAA' };
    const request = { relayHost: 'relay.example:8443', method: 'PUT', path: '/v1/devices/x/prekeys', timestamp: 1_700_000_000_000, nonce: 'AAAAAAAAAAAAAAAAAAAAAA', body: utf8('{}') };
    return { identity, device, certificate, prekey, handshake, request };
  };

  it('a device certificate verifies; a forged or altered one is invalid_certificate', () => {
    const { identity, certificate } = setup();
    const signature = signDeviceCertificate(certificate, identity.privateKey);
    expect(() => verifyDeviceCertificate(certificate, signature, identity.publicKey)).not.toThrow();
    const forger = generateSigningKeyPair();
    expect(codeOf(() => verifyDeviceCertificate(certificate, signDeviceCertificate(certificate, forger.privateKey), identity.publicKey))).toBe('invalid_certificate');
    expect(codeOf(() => verifyDeviceCertificate({ ...certificate, handle: 'mallory' }, signature, identity.publicKey))).toBe('invalid_certificate');
    expect(codeOf(() => verifyDeviceCertificate({ ...certificate, createdAt: certificate.createdAt + 1 }, signature, identity.publicKey))).toBe('invalid_certificate');
    expect(codeOf(() => verifyDeviceCertificate(certificate, signature.slice(0, 63), identity.publicKey))).toBe('invalid_certificate');
  });

  it('a signed prekey verifies; a bad signature is bad_signature', () => {
    const { identity, prekey } = setup();
    const signature = signSignedPrekey(prekey, identity.privateKey);
    expect(() => verifySignedPrekey(prekey, signature, identity.publicKey)).not.toThrow();
    const bad = Uint8Array.from(signature);
    bad[10] = (bad[10] as number) ^ 1;
    expect(codeOf(() => verifySignedPrekey(prekey, bad, identity.publicKey))).toBe('bad_signature');
    expect(codeOf(() => verifySignedPrekey({ ...prekey, keyId: 8 }, signature, identity.publicKey))).toBe('bad_signature');
    expect(codeOf(() => verifySignedPrekey({ ...prekey, publicKey: generateDhKeyPair().publicKey }, signature, identity.publicKey))).toBe('bad_signature');
  });

  it('handshake and request signatures verify and bind every field', () => {
    const { device, handshake, request } = setup();
    const hs = signHandshake(handshake, device.privateKey);
    expect(verifyHandshake(handshake, hs, device.publicKey)).toBe(true);
    expect(verifyHandshake({ ...handshake, relayHost: 'other.example' }, hs, device.publicKey)).toBe(false);
    expect(verifyHandshake({ ...handshake, nonce: 'BAAAAAAAAAAAAAAAAAAAAA' }, hs, device.publicKey)).toBe(false);
    const rq = signRequest(request, device.privateKey);
    expect(verifyRequest(request, rq, device.publicKey)).toBe(true);
    expect(verifyRequest({ ...request, body: utf8('{ }') }, rq, device.publicKey)).toBe(false);
    expect(verifyRequest({ ...request, method: 'POST' }, rq, device.publicKey)).toBe(false);
    expect(verifyHandshake(handshake, hs, generateSigningKeyPair().publicKey)).toBe(false);
  });

  it('a signature for one label never verifies as another', () => {
    const { identity, device, certificate, prekey, handshake, request } = setup();
    // Same key signs everything here, so only the label separates the statements.
    const key = identity;
    const sigs = {
      certificate: signDeviceCertificate(certificate, key.privateKey),
      prekey: signSignedPrekey(prekey, key.privateKey),
      handshake: signHandshake(handshake, key.privateKey),
      request: signRequest(request, key.privateKey),
    };
    for (const [name, sig] of Object.entries(sigs)) {
      if (name !== 'certificate') expect(codeOf(() => verifyDeviceCertificate(certificate, sig, key.publicKey))).toBe('invalid_certificate');
      if (name !== 'prekey') expect(codeOf(() => verifySignedPrekey(prekey, sig, key.publicKey))).toBe('bad_signature');
      if (name !== 'handshake') expect(verifyHandshake(handshake, sig, key.publicKey)).toBe(false);
      if (name !== 'request') expect(verifyRequest(request, sig, key.publicKey)).toBe(false);
    }
    expect(device.publicKey.length).toBe(32);
  });
});
