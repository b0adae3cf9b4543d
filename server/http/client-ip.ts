/**
 * The client address per-IP limits count, for sockets. Fastify applies --trust-proxy to HTTP
 * requests (request.ip); Socket.IO does not, so behind a proxy every socket would share the
 * proxy's address. Same rule as Fastify's `trustProxy: true`: the left-most X-Forwarded-For
 * entry. Held in memory only, never logged or stored.
 */
import type { IncomingHttpHeaders } from 'node:http';

export function socketClientIp(remoteAddress: string, headers: IncomingHttpHeaders, trustProxy: boolean): string {
  if (!trustProxy) return remoteAddress;
  const forwarded = headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return first && first.length > 0 ? first : remoteAddress;
}
