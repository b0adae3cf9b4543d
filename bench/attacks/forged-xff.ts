/**
 * Attack 4 (issue 18 item 4): forged X-Forwarded-For against a relay started with
 * `--trust-proxy 127.0.0.1`. Before the fix the left-most entry counted, so a client naming its
 * own address got 150 of 150 bundle claims (limit 60) and 80 of 80 sockets (cap 50).
 *  a. direct from an untrusted peer (127.0.0.3), every request with a different forged
 *     X-Forwarded-For: 100 registrations (per-address limit 60/min), 80 sockets of one device
 *     (per-address cap 50);
 *  b. through the "proxy" (a connection from the trusted 127.0.0.1 that carries what nginx's
 *     `$proxy_add_x_forwarded_for` produces: the client's forged entry, then its real address
 *     127.0.7.7): 100 registrations.
 * No nginx here: test/hardening/trusted-proxy.test.ts goes through a real one.
 */
import { codeOf, connect, errorText, newAccount, ready, register, signedCall, sleep, Tally, type ClientSocket } from './client.js';
import type { AttackOutcome, AttackParams } from './types.js';

const forged = () => `${1 + Math.floor(Math.random() * 223)}.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;

async function registrations(p: AttackParams, tally: Tally, label: string, localAddress: string, xff: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { device, request } = newAccount('xff');
    try {
      const result = await signedCall(p.url, device.keys, { method: 'POST', path: '/v2/accounts', body: request, localAddress, headers: { 'x-forwarded-for': xff() } });
      tally.add(`${label} registration ${codeOf(result)}`);
    } catch (error) {
      tally.add(`${label} registration ${errorText(error)}`);
    }
  }
}

export async function forgedXff(p: AttackParams): Promise<AttackOutcome> {
  await ready();
  const tally = new Tally();
  const started = performance.now();
  await registrations(p, tally, 'direct', '127.0.0.3', forged);
  await registrations(p, tally, 'via proxy', '127.0.0.1', () => `${forged()}, 127.0.7.7`);

  const device = await register(p.url, 'xffsock', { localAddress: '127.0.0.4' });
  const sockets: ClientSocket[] = [];
  for (let i = 0; i < 80; i++) {
    try {
      sockets.push(await connect(p.url, device, { localAddress: '127.0.0.3', extraHeaders: { 'x-forwarded-for': forged() } }));
      tally.add('direct socket connected');
    } catch (error) {
      tally.add(`direct socket ${errorText(error)}`);
    }
  }
  // Hold the sockets for the rest of the window, then leave.
  await sleep(Math.max(0, p.durationMs - (performance.now() - started)));
  for (const s of sockets) s.close();
  const ok = (label: string) => tally.get(`${label} registration 201`);
  return {
    summary:
      `forged XFF, direct: ${ok('direct')}/100 registrations (limit 60/min), ${tally.get('direct socket connected')}/80 sockets (cap 50); ` +
      `forged entry + real one via the trusted proxy: ${ok('via proxy')}/100 registrations`,
    counts: tally.counts,
  };
}
