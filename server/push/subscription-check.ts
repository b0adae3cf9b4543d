/**
 * What the relay accepts as a push subscription, and where it lets a push go.
 *
 * A registered device names the URL the relay will POST to, so an endpoint is a way to make the
 * relay send requests: only https:// URLs to public addresses are taken. Push services (FCM,
 * Mozilla autopush, Apple, WNS) all have DNS names on public addresses; an endpoint on this
 * machine or a private network could only be someone probing the operator's own services. The
 * address is checked twice: the URL when the subscription is registered (an IP literal), and
 * every address its name resolves to when a push is sent (guardedLookup), since DNS can change
 * after registration.
 *
 * `--push-allow-insecure-endpoints` (development and tests only) also accepts http:// to this
 * machine's loopback address, where a test runs its own push service.
 */
import { ECDH } from 'node:crypto';
import { lookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/** Addresses no push service lives at: this host, private networks, link-local, multicast, reserved. */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['64:ff9b:1::', 48]] as const) PRIVATE.addSubnet(net, prefix, 'ipv6');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The host of a URL without IPv6 brackets. */
const bareHost = (url: URL): string => url.hostname.replace(/^\[(.*)\]$/, '$1');

function family(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/** Whether a push may go to `address` (an IP): public ones, and loopback when insecure endpoints are allowed. */
export function addressAllowed(address: string, allowLoopback: boolean): boolean {
  const kind = family(address);
  if (!kind) return false;
  if (allowLoopback && LOOPBACK.check(address, kind)) return true;
  return !PRIVATE.check(address, kind);
}

/** Why `endpoint` is refused as a push endpoint, or undefined when it is acceptable. */
export function endpointProblem(endpoint: string, allowInsecure: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'the push endpoint is not a URL';
  }
  if (url.username || url.password || url.hash) return 'the push endpoint must not hold credentials or a fragment';
  const host = bareHost(url);
  const kind = family(host);
  const loopback = host === 'localhost' || (kind !== undefined && LOOPBACK.check(host, kind));
  if (allowInsecure && loopback) return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'the push endpoint must be an http(s) URL';
  if (url.protocol !== 'https:') return 'the push endpoint must be an https:// URL';
  if (host === 'localhost' || host.endsWith('.localhost')) return 'the push endpoint must be on a public host';
  if (kind !== undefined && !addressAllowed(host, false)) return 'the push endpoint must be on a public address';
  return undefined;
}

/** Why the subscription's keys are refused: p256dh must be a P-256 point, auth 16 bytes. */
export function keysProblem(keys: { p256dh: string; auth: string }): string | undefined {
  const point = Buffer.from(keys.p256dh, 'base64url');
  if (point.length !== 65 || point[0] !== 0x04) return 'keys.p256dh must be an uncompressed P-256 public key';
  try {
    // Throws for bytes that are not a point on the curve.
    ECDH.convertKey(point, 'prime256v1');
  } catch {
    return 'keys.p256dh is not a point on P-256';
  }
  if (Buffer.from(keys.auth, 'base64url').length !== 16) return 'keys.auth must be 16 bytes';
  return undefined;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s).request that refuses a push service name resolving to a private
 * address (ENOTPUSHABLE), in both forms Node calls it with (one address, or `all`).
 */
export function guardedLookup(allowLoopback: boolean) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true } as LookupAllOptions, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = addresses.find((a) => !addressAllowed(a.address, allowLoopback));
      if (refused || addresses.length === 0) {
        const denied: NodeJS.ErrnoException = new Error('the push service resolves to an address the relay does not push to');
        denied.code = 'ENOTPUSHABLE';
        return callback(denied, []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}
