/**
 * Attack 1 (issue 18 item 1): one registered signer spends signed requests and handshakes as
 * fast as it can. Before the fix every signed request spent a nonce in one shared 200,000-entry
 * cache, and once it was full every user's handshakes were refused `replayed_nonce`.
 *
 * The signer's requests go round four signed routes (a lookup of a missing handle, an empty
 * prekey upload, a claim of its own bundle, a claim of its own link mailbox) and round 64
 * loopback source addresses, so the per-address route limits (60/min) do not stop it first and
 * the per-signer budgets (--signed-requests-per-device, --nonces-per-device) are what it meets.
 * Meanwhile it opens and closes sockets with fresh signed handshakes from 127.0.0.1, each
 * spending a nonce of the same key.
 */
import { codeOf, connect, errorText, flood, ready, register, signedCall, Tally } from './client.js';
import type { AttackOutcome, AttackParams } from './types.js';

const ADDRESSES = Array.from({ length: 64 }, (_, i) => `127.0.3.${i + 1}`);

export async function signedFlood(p: AttackParams): Promise<AttackOutcome> {
  await ready();
  const me = await register(p.url, 'flood');
  const tally = new Tally();
  const until = performance.now() + p.durationMs;
  const routes = [
    { name: 'lookup', method: 'GET', path: () => `/v2/accounts/nobody${Math.floor(Math.random() * 1e9)}`, nameDevice: me.id },
    { name: 'prekeys', method: 'PUT', path: () => `/v2/devices/${me.id}/prekeys`, body: {} },
    { name: 'bundle', method: 'POST', path: () => `/v2/devices/${me.id}/bundle`, nameDevice: me.id },
    { name: 'link-claim', method: 'POST', path: () => `/v2/provisioning/${me.id}/claim` },
  ];
  const started = performance.now();
  const [requests, handshakes] = await Promise.all([
    flood(32, until, 200_000, async (i) => {
      const route = routes[i % routes.length]!;
      try {
        const result = await signedCall(p.url, me.keys, {
          method: route.method,
          path: route.path(),
          ...('body' in route ? { body: route.body } : {}),
          ...(route.nameDevice ? { nameDevice: route.nameDevice } : {}),
          localAddress: ADDRESSES[i % ADDRESSES.length]!,
        });
        tally.add(`request ${codeOf(result)}`);
      } catch (error) {
        tally.add(`request error ${errorText(error)}`);
      }
    }),
    flood(4, until, 50_000, async () => {
      try {
        const socket = await connect(p.url, me);
        tally.add('handshake ok');
        socket.close();
      } catch (error) {
        tally.add(`handshake ${errorText(error)}`);
      }
    }),
  ]);
  const seconds = (performance.now() - started) / 1000;
  const accepted = tally.sum('request 2') + tally.get('request 404 not_found');
  const refused = tally.sum('request 429');
  const replayed = tally.sum('request 401 replayed_nonce') + tally.get('handshake replayed_nonce');
  return {
    summary:
      `1 signer, ${requests} signed requests (${Math.round(requests / seconds)}/s) from 64 addresses: ${accepted} served, ${refused} refused 429 rate_limited; ` +
      `${handshakes} handshakes: ${tally.get('handshake ok')} ok, ${tally.get('handshake rate_limited')} rate_limited; replayed_nonce: ${replayed}`,
    counts: tally.counts,
    details: { requests, handshakes, seconds },
  };
}
