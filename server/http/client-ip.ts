/**
 * The client address per-IP limits count, for HTTP requests and sockets alike. With
 * --trust-proxy the relay trusts only the listed proxy addresses (IPs or CIDRs): the address is
 * the right-most X-Forwarded-For entry that is not a trusted proxy, walking from the TCP peer
 * leftwards (the rule of Fastify's `trustProxy` with an address list, i.e. proxy-addr). A client
 * that sends its own X-Forwarded-For only adds entries to the left of the one its proxy appends,
 * so it cannot pick the address it is counted by. Fastify is given the same trust function
 * (server/app.ts), so request.ip and socket addresses follow one rule. Held in memory only,
 * never logged or stored.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** Whether an address is one of the trusted proxies. */
export type ProxyTrust = (address: string) => boolean;

/** `::ffff:192.0.2.1` (an IPv4 peer on a dual-stack socket) → `192.0.2.1`; brackets and zone ids dropped. */
export function normalizeAddress(address: string): string {
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  if (mapped?.[1]) return mapped[1];
  return a;
}

/** A parse error of one --trust-proxy entry, or undefined when it is an IP or CIDR. */
export function proxyEntryError(entry: string): string | undefined {
  const [ip, bits, extra] = entry.split('/');
  if (extra !== undefined || ip === undefined) return `"${entry}" is not an IP address or CIDR`;
  const family = isIP(normalizeAddress(ip));
  if (family === 0) return `"${entry}" is not an IP address or CIDR`;
  if (bits === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `"${entry}": prefix length must be 0-${max}`;
  return undefined;
}

/** Compiles the --trust-proxy list (validated by config.ts) into a trust test. */
export function compileProxyTrust(entries: readonly string[]): ProxyTrust {
  const list = new BlockList();
  for (const entry of entries) {
    const [raw = '', bits] = entry.split('/');
    const ip = normalizeAddress(raw);
    const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(bits), type);
  }
  return (address) => {
    const ip = normalizeAddress(address);
    const family = isIP(ip);
    if (family === 0) return false;
    return list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  };
}

const compiled = new WeakMap<readonly string[], ProxyTrust>();

/** The trust test of a (frozen) --trust-proxy list, compiled once. */
export function proxyTrustFor(entries: readonly string[]): ProxyTrust {
  let trust = compiled.get(entries);
  if (!trust) {
    trust = compileProxyTrust(entries);
    compiled.set(entries, trust);
  }
  return trust;
}

/**
 * The client address of a connection from `remoteAddress` carrying `forwardedFor`: the peer when
 * it is not a trusted proxy, else the right-most forwarded entry that is not one (the left-most
 * entry when all are trusted).
 */
export function clientAddress(remoteAddress: string, forwardedFor: string | readonly string[] | undefined, trust: ProxyTrust): string {
  if (!trust(remoteAddress)) return remoteAddress;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor as string | undefined);
  if (!header) return remoteAddress;
  const hops = header.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  let address = remoteAddress;
  for (let i = hops.length - 1; i >= 0; i--) {
    address = hops[i] ?? address;
    if (!trust(address)) return address;
  }
  return address;
}

/** The client address of a socket (Socket.IO does not apply Fastify's trustProxy). */
export function socketClientIp(remoteAddress: string, headers: IncomingHttpHeaders, trustProxy: readonly string[]): string {
  if (trustProxy.length === 0) return remoteAddress;
  return clientAddress(remoteAddress, headers['x-forwarded-for'], proxyTrustFor(trustProxy));
}
