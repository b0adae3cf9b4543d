/**
 * Replays into sessions, tried as a relay would: keep alice's first (prekey) message to bob and
 * deliver it again long after, when its ratchet key has left the replay window (40 round
 * trips). With the one-time prekey withheld by the relay, nothing in X3DH alone stops that
 * message from building a fresh session (X3DH §4.2); bob's record of accepted base keys does.
 * The replay must change no session, show nothing, and leave the conversation working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url } from '../../crypto/index.js';
import type { OutboxRecord } from '../../client/sdk/store/records.js';
import { randomId } from '../../client/sdk/random.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { rawSend, registerDevice, tempDir, textsFrom, waitFor, type TestDevice } from './helpers.js';
import { LyingRelay } from './lying-relay.js';

const ROUND_TRIPS = 40;


describe('replayed first messages', () => {
  let relay: RelayHandle;
  const profiles = tempDir('sealpost-sdk-replay-');
  let bob: TestDevice;
  let mallory: TestDevice;
  const opened: TestDevice[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    bob = await registerDevice(profiles.path, relay.url, 'bob');
    mallory = await registerDevice(profiles.path, relay.url, 'mallory');
    opened.push(bob, mallory);
  });

  afterAll(async () => {
    for (const device of opened) await device.client.close().catch(() => undefined);
    await relay?.close();
    profiles.remove();
  });

  for (const variant of ['with', 'without'] as const) {
    it(`changes no session and shows nothing (${variant} a one-time prekey, after ${ROUND_TRIPS} round trips)`, async () => {
      const liar = new LyingRelay();
      liar.withholdOneTimePrekeys = variant === 'without';
      const handle = `alice-${variant}`;
      const alice = await registerDevice(profiles.path, relay.url, handle, { fetch: liar.fetch });
      opened.push(alice);

      await alice.client.send('bob', 'first');
      // Read before the relay's ack removes it: the sealed first message exactly as the relay stores it.
      const captured = alice.client.store.all('outbox').find((e: OutboxRecord) => e.to === bob.client.deviceId);
      expect(captured).toBeDefined();
      await waitFor(() => textsFrom(bob, handle).includes('first'), 'bob gets the first message');

      for (let i = 0; i < ROUND_TRIPS; i++) {
        await bob.client.send(handle, `pong ${i}`);
        await waitFor(() => textsFrom(alice, 'bob').includes(`pong ${i}`), `alice gets pong ${i}`);
        await alice.client.send('bob', `ping ${i}`);
        await waitFor(() => textsFrom(bob, handle).includes(`ping ${i}`), `bob gets ping ${i}`);
      }

      // Let the delivered receipts of both sides settle: each one moves a session, and the check
      // below must see only what the replay does.
      const allDelivered = (device: TestDevice, peer: string) =>
        device.client.messages({ kind: 'direct', handle: peer }).filter((m) => m.outgoing).every((m) => m.state === 'delivered');
      await waitFor(() => allDelivered(bob, handle) && allDelivered(alice, 'bob'), 'every receipt arrived');
      await alice.client.outboxDrained();
      await bob.client.outboxDrained();
      const sessionsBefore = JSON.stringify(bob.client.store.get('sessions', alice.client.deviceId!));
      const seenBefore = bob.seen.length;
      const ack = await rawSend(mallory.client, [{ to: bob.client.deviceId!, id: randomId(), body: fromBase64Url(captured!.body) }]);
      expect(ack.ok).toBe(true);
      // Let bob's client take it in: one more message from mallory behind it shows the queue moved on.
      await (await mallory.client.send('bob', 'marker')).stored;
      await waitFor(() => textsFrom(bob, 'mallory').includes(`marker`), 'bob processed the replay and the marker');
      expect(JSON.stringify(bob.client.store.get('sessions', alice.client.deviceId!))).toBe(sessionsBefore);
      // The 'seen' event may trail the store by a tick under load: wait for mallory's, then check it is the only one.
      await waitFor(() => bob.seen.slice(seenBefore).some((m) => m.from === 'mallory'), 'bob saw the marker');
      expect(bob.seen.slice(seenBefore).map((m) => m.from)).toEqual(['mallory']);

      await alice.client.send('bob', 'after the replay');
      await waitFor(() => textsFrom(bob, handle).includes('after the replay'), 'bob still reads alice');
      await bob.client.send(handle, 'and alice still reads bob');
      await waitFor(() => textsFrom(alice, 'bob').includes('and alice still reads bob'), 'alice still reads bob');
    }, 120_000);
  }
});
