/**
 * --inbound-bytes-per-second: one connection cannot make the relay read faster than its budget.
 * The relay stops reading the socket when the budget is spent (TCP pushes back), so a sender
 * pushing 1.5 MiB through a 512 KiB/s budget with a 128 KiB burst needs at least 2.6 s, however
 * fast it writes; and the relay keeps answering others meanwhile. Without the budget (the test
 * default) the same sends take a fraction of that.
 */
import { describe, expect, it } from 'vitest';
import { envelopeTo, send } from '../support/envelopes.js';
import { connectDevice, randomId } from '../support/identity.js';
import { relaysClosedAfterAll } from '../support/two-accounts.js';

const { setup } = relaysClosedAfterAll();

const KiB = 1024;
/** 24 batches of 4 envelopes of 16 KiB: 1.5 MiB of bodies. */
async function sendBurst(url: string, from: Parameters<typeof connectDevice>[1], to: Parameters<typeof envelopeTo>[0]): Promise<number> {
  const socket = await connectDevice(url, from);
  const started = performance.now();
  const batches = Array.from({ length: 24 }, () => Array.from({ length: 4 }, () => ({ ...envelopeTo(to, 'x'), id: randomId(), body: new Uint8Array(16 * KiB).fill(7) })));
  const results = await Promise.all(batches.map((batch) => send(socket, batch, 20_000)));
  const elapsed = performance.now() - started;
  socket.close();
  expect(results.every((r) => r.ok && r.failed.length === 0)).toBe(true);
  return elapsed;
}

describe('a connection\'s read budget', () => {
  it('holds a fast sender to its budget while /healthz answers, and lets it through whole', async () => {
    const { relay, alice, bob } = await setup({ inboundBytesPerSecond: 512 * KiB, inboundBurstBytes: 128 * KiB });
    const probes: number[] = [];
    let sending = true;
    const probing = (async () => {
      while (sending) {
        const t = performance.now();
        expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
        probes.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const elapsed = await sendBurst(relay.url, alice.devices[0]!, bob.devices[0]!);
    sending = false;
    await probing;
    // (1.5 MiB − 128 KiB burst) at 512 KiB/s.
    expect(elapsed).toBeGreaterThan(2600);
    expect(probes.length).toBeGreaterThan(5);
  }, 30_000);

  it('does not slow a sender under a loose budget', async () => {
    const { relay, alice, bob } = await setup();
    expect(await sendBurst(relay.url, alice.devices[0]!, bob.devices[0]!)).toBeLessThan(2600);
  }, 30_000);
});
