/**
 * Attack 8 (issue 18 item 8): handle enumeration, 2,690 lookups/s from one address before the
 * fix (200 vs 404, no limit). Signed lookups as fast as possible, 16 in flight, 9 in 10 of a
 * made-up handle and 1 in 10 of one that exists:
 *  - first half: one registered device, from 127.0.0.1 (meets --lookups-per-device, 120/min);
 *  - second half: four other devices of the attacker, round-robin, from 127.0.0.9 (they meet
 *    --lookups-per-ip, 300/min, together).
 */
import { codeOf, errorText, flood, ready, register, signedCall, Tally, type Device } from './client.js';
import type { AttackOutcome, AttackParams } from './types.js';

async function lookups(p: AttackParams, devices: Device[], localAddress: string, until: number, tally: Tally, label: string): Promise<number> {
  return flood(16, until, 200_000, async (i) => {
    const device = devices[i % devices.length]!;
    const handle = i % 10 === 0 ? p.aliceHandle : `guess${Math.floor(Math.random() * 1e9)}`;
    try {
      const result = await signedCall(p.url, device.keys, { method: 'GET', path: `/v2/accounts/${handle}`, nameDevice: device.id, localAddress });
      let code = codeOf(result);
      if (result.status === 429) code += result.body.includes('this device') ? ' (device budget)' : ' (address budget)';
      tally.add(`${label} ${code}`);
    } catch (error) {
      tally.add(`${label} error ${errorText(error)}`);
    }
  });
}

export async function lookupFlood(p: AttackParams): Promise<AttackOutcome> {
  await ready();
  const devices = await Promise.all(Array.from({ length: 5 }, () => register(p.url, 'enum')));
  const tally = new Tally();
  const started = performance.now();
  const half = started + p.durationMs / 2;
  const n1 = await lookups(p, devices.slice(0, 1), '127.0.0.1', half, tally, 'one device');
  const n2 = await lookups(p, devices.slice(1), '127.0.0.9', started + p.durationMs, tally, 'one address');
  const seconds = (performance.now() - started) / 1000;
  const answered = (label: string) => tally.get(`${label} 200`) + tally.get(`${label} 404 not_found`);
  return {
    summary:
      `one device: ${n1} lookups, ${answered('one device')} answered (200/404), ${tally.sum('one device 429')} refused 429; ` +
      `4 devices from one address: ${n2} lookups, ${answered('one address')} answered, ${tally.sum('one address 429')} refused 429 — ` +
      `${((answered('one device') + answered('one address')) / seconds).toFixed(1)} answered/s over ${seconds.toFixed(0)} s`,
    counts: tally.counts,
    details: { seconds },
  };
}
