/**
 * Attack 9 (issue 18 item 9): the link mailbox. Before the fix it cost 133 MB per 1,000 blobs,
 * and its 10,000-id cap filled from ~210 addresses in 11 s, after which linking answered 503 for
 * everyone for 10 minutes. Unauthenticated puts of ~13 KB blobs (10 of them fill one address's
 * 128 KiB) to fresh device ids:
 *  - one address: 16 in flight from 127.0.0.1 for the whole window;
 *  - many addresses: 640 loopback addresses (127.0.8.0–127.0.10.127), each putting 10 blobs,
 *    32 in flight — 84 MB offered against the mailbox's 64 MiB total.
 * The runner meanwhile links a legitimate device every 2 s from 127.0.0.2 (monitor.ts LegitLinker).
 */
import { deviceIdOf, generateSigningKeyPair } from '../../crypto/keys.js';
import { codeOf, errorText, flood, http, randomId, ready, sleep, Tally } from './client.js';
import type { AttackOutcome, AttackParams } from './types.js';

/** 13,100 base64url characters: 10 blobs are 131,000 of an address's 131,072. */
const BLOB = randomId(9825);

async function put(p: AttackParams, localAddress: string, tally: Tally): Promise<void> {
  const target = deviceIdOf(generateSigningKeyPair().publicKey);
  try {
    const result = await http(p.url, {
      method: 'PUT',
      path: `/v2/provisioning/${target}`,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: BLOB }),
      localAddress,
    });
    tally.add(`put ${codeOf(result)}`);
  } catch (error) {
    tally.add(`put error ${errorText(error)}`);
  }
}

function summary(tally: Tally, n: number, what: string, seconds: number): string {
  return (
    `${what}: ${n} puts of 13 KB (${Math.round(n / seconds)}/s): ${tally.get('put 204')} stored (${((tally.get('put 204') * BLOB.length) / 1e6).toFixed(1)} MB), ` +
    `${tally.sum('put 429')} refused 429 rate_limited, ${tally.sum('put 403')} refused 403 quota_exceeded, ${tally.sum('put 503')} 503`
  );
}

export async function mailboxOneAddress(p: AttackParams): Promise<AttackOutcome> {
  await ready();
  const tally = new Tally();
  const started = performance.now();
  const n = await flood(16, started + p.durationMs, 200_000, () => put(p, '127.0.0.1', tally));
  return { summary: summary(tally, n, 'one address', (performance.now() - started) / 1000), counts: tally.counts };
}

export async function mailboxManyAddresses(p: AttackParams): Promise<AttackOutcome> {
  await ready();
  const addresses = Array.from({ length: 640 }, (_, i) => `127.0.${8 + Math.floor(i / 256)}.${i % 256}`);
  const tally = new Tally();
  const started = performance.now();
  const until = started + p.durationMs;
  const n = await flood(32, until, addresses.length * 10, (i) => put(p, addresses[Math.floor(i / 10)]!, tally));
  const seconds = (performance.now() - started) / 1000;
  await sleep(Math.max(0, until - performance.now())); // the runner's linker keeps trying while the mailbox is full
  return { summary: summary(tally, n, `640 addresses × 10`, seconds), counts: tally.counts, details: { seconds } };
}
