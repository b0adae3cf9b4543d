/**
 * A Web Push service for tests, on 127.0.0.1 (plain http: the relay runs with
 * --push-allow-insecure-endpoints). It does what a real push service checks before it takes a
 * push, and what the browser does after:
 *   - the VAPID header (RFC 8292): `vapid t=JWT, k=KEY` where KEY is the relay's public key, the
 *     JWT is ES256 and verifies under KEY, `aud` is this service's origin, `exp` is in the future
 *     and at most 24 h away, `sub` is a mailto: or https: URL;
 *   - the payload, decrypted as the browser would (aes128gcm, RFC 8188 and RFC 8291) with the
 *     subscription's private key and auth secret, made here like a browser makes them.
 * Every request is recorded with what was found, and answered with the status the test chose
 * for its subscription (201 by default; 410 to report a subscription gone).
 */
import { createDecipheriv, createECDH, createPublicKey, hkdfSync, randomBytes, verify, type ECDH } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface ReceivedPush {
  /** Which subscription (the name the test gave it). */
  name: string;
  headers: IncomingHttpHeaders;
  /** The VAPID checks passed (else `problem` says which failed). */
  vapid: boolean;
  problem?: string;
  jwt?: { aud?: unknown; exp?: unknown; sub?: unknown };
  /** The request body as sent (encrypted). */
  body: Buffer;
  /** The payload decrypted with the subscription's keys (undefined when there was none or it failed). */
  plaintext?: Buffer;
  status: number;
}

interface Holder {
  ecdh: ECDH;
  auth: Buffer;
  status: number;
}

export interface TestPushService {
  origin: string;
  received: ReceivedPush[];
  /** A new subscription at this service, with browser-made keys. */
  subscribe(name: string): TestSubscription;
  /** The status this service answers for `name` from now on (e.g. 410: gone). */
  answer(name: string, status: number): void;
  pushesFor(name: string): ReceivedPush[];
  close(): Promise<void>;
}

/** `vapidKey`: the relay's public key (GET /v2/push/key), read when a push arrives. */
export async function startPushService(vapidKey: () => string | undefined): Promise<TestPushService> {
  const holders = new Map<string, Holder>();
  const received: ReceivedPush[] = [];
  let origin = '';
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const name = decodeURIComponent((request.url ?? '').replace(/^\/push\//, ''));
      const holder = holders.get(name);
      const body = Buffer.concat(chunks);
      const status = holder?.status ?? 404;
      const push: ReceivedPush = { name, headers: request.headers, vapid: false, body, status };
      try {
        push.jwt = checkVapid(request.headers.authorization, origin, vapidKey());
        push.vapid = true;
      } catch (error) {
        push.problem = (error as Error).message;
      }
      if (holder && body.length > 0) {
        try {
          push.plaintext = decryptAes128gcm(body, holder.ecdh, holder.auth);
        } catch (error) {
          push.problem = `payload: ${(error as Error).message}`;
        }
      }
      received.push(push);
      response.writeHead(push.vapid ? status : 403).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    received,
    subscribe(name) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      holders.set(name, { ecdh, auth, status: 201 });
      return { endpoint: `${origin}/push/${encodeURIComponent(name)}`, keys: { p256dh: ecdh.getPublicKey('base64url'), auth: auth.toString('base64url') } };
    },
    answer(name, status) {
      const holder = holders.get(name);
      if (holder) holder.status = status;
    },
    pushesFor: (name) => received.filter((p) => p.name === name),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Throws unless the header is a valid VAPID authorization by `expectedKey` for `audience`. */
function checkVapid(header: string | undefined, audience: string, expectedKey: string | undefined): ReceivedPush['jwt'] {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (!match) throw new Error('no vapid authorization');
  const [, token, key] = match as unknown as [string, string, string];
  if (key !== expectedKey) throw new Error('k is not the relay key');
  const [head, payload, signature] = token.split('.');
  if (!head || !payload || !signature) throw new Error('not a JWT');
  const header0 = JSON.parse(Buffer.from(head, 'base64url').toString()) as { alg?: string };
  if (header0.alg !== 'ES256') throw new Error('alg is not ES256');
  const point = Buffer.from(key, 'base64url');
  const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') }, format: 'jwk' });
  const ok = verify('sha256', Buffer.from(`${head}.${payload}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!ok) throw new Error('JWT signature does not verify');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { aud?: unknown; exp?: unknown; sub?: unknown };
  const now = Math.floor(Date.now() / 1000);
  if (claims.aud !== audience) throw new Error(`aud ${String(claims.aud)} is not ${audience}`);
  if (typeof claims.exp !== 'number' || claims.exp <= now || claims.exp > now + 24 * 3600) throw new Error('exp is not within 24 h ahead');
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) throw new Error('sub is not mailto: or https:');
  return claims;
}

/**
 * RFC 8291 §3.4 and RFC 8188: header salt(16) rs(4) idlen(1) keyid(idlen = the sender's
 * ephemeral public key), then one record: AES-128-GCM(plaintext ‖ 0x02 ‖ zero padding).
 */
export function decryptAes128gcm(body: Buffer, ua: ECDH, authSecret: Buffer): Buffer {
  const salt = body.subarray(0, 16);
  const idlen = body.readUInt8(20);
  const asPublic = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  const ecdhSecret = ua.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), ua.getPublicKey(), asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', ecdhSecret, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end -= 1;
  if (padded[end] !== 0x02) throw new Error('no last-record delimiter');
  return padded.subarray(0, end);
}
