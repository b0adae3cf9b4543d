/**
 * Observability: /metrics series move as an exchange happens, /metrics honours --metrics-token,
 * /healthz answers, /readyz reports whether the database takes a write lock.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ack, connectInbox, envelopeTo, send } from '../support/envelopes.js';
import { connectDevice, makeAccount, randomId, registerAll, type TestAccount } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

const TOKEN = 'metrics-token-for-tests-4b1d';
let relay: RelayHandle;
let alice: TestAccount;
let bob: TestAccount;

beforeAll(async () => {
  relay = await startRelay({ metricsToken: TOKEN, maxBodyBytes: 1024 });
  alice = await makeAccount();
  bob = await makeAccount({ devices: 2 });
  await registerAll(relay.url, alice);
  await registerAll(relay.url, bob);
});
afterAll(async () => relay.close());

type Series = Map<string, number>;

async function scrape(): Promise<Series> {
  const response = await fetch(`${relay.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const series: Series = new Map();
  for (const line of (await response.text()).split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

const get = (s: Series, name: string): number => s.get(name) ?? 0;
const delta = (after: Series, before: Series, name: string): number => get(after, name) - get(before, name);

describe('/metrics', () => {
  it('refuses a scrape without the bearer token, or with a wrong one', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: TOKEN }, { authorization: `Basic ${TOKEN}` }];
    for (const headers of attempts) {
      const response = await fetch(`${relay.url}/metrics`, { headers });
      expect(response.status, JSON.stringify(headers)).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'unauthorized' } });
    }
  });

  it('is open when no token is configured', async () => {
    const open = await startRelay();
    try {
      expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it('moves every series of an exchange', async () => {
    const before = await scrape();
    expect(get(before, 'sealpost_devices')).toBe(3);
    for (const name of ['sealpost_sockets', 'sealpost_queue_envelopes', 'sealpost_queue_bytes', 'sealpost_process_resident_memory_bytes']) expect(before.has(name), name).toBe(true);

    const b0 = bob.devices[0]!;
    const b1 = bob.devices[1]!;
    const sa = await connectDevice(relay.url, alice.devices[0]!);
    const { socket: sb, inbox } = await connectInbox(relay.url, b0);
    await inbox.until((i) => i.prekeyCounts.length > 0);
    const during = await scrape();
    expect(get(during, 'sealpost_sockets')).toBe(2);

    // 3 to the online device, a batch of 4 to the offline one, 1 ephemeral, then refusals.
    for (let i = 0; i < 3; i++) expect(await send(sa, envelopeTo(b0, `m${i}`))).toEqual({ ok: true, failed: [] });
    const batch = Array.from({ length: 4 }, (_, i) => envelopeTo(b1, `offline ${i}`));
    expect(await send(sa, batch)).toEqual({ ok: true, failed: [] });
    expect(await send(sa, envelopeTo(b0, 'typing', { ephemeral: true }))).toEqual({ ok: true, failed: [] });
    expect(await send(sa, { to: b0.id, id: randomId(), body: new Uint8Array(2000) })).toMatchObject({ error: { code: 'too_large' } });
    expect(await send(sa, { to: alice.devices[0]!.id.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')), id: randomId(), body: new Uint8Array(8) })).toMatchObject({ ok: false });
    await inbox.waitForCount(4);
    const stored = inbox.envelopes.filter((e) => e.seq !== undefined);
    expect(await ack(sb, { upTo: stored[2]!.seq! })).toEqual({ ok: true, deleted: 3 });

    const after = await scrape();
    expect(delta(after, before, 'sealpost_envelopes_accepted_total')).toBe(8);
    expect(delta(after, before, 'sealpost_envelopes_stored_total')).toBe(7);
    expect(delta(after, before, 'sealpost_envelopes_delivered_total')).toBe(3);
    expect(delta(after, before, 'sealpost_envelopes_pushed_total')).toBe(3);
    expect(delta(after, before, 'sealpost_envelopes_refused_total{code="too_large"}')).toBe(1);
    const refusedOther = [...after.keys()].filter((k) => k.startsWith('sealpost_envelopes_refused_total{') && !k.includes('too_large'));
    expect(refusedOther.reduce((n, k) => n + delta(after, before, k), 0)).toBe(1);
    expect(get(after, 'sealpost_queue_envelopes')).toBe(4);
    expect(get(after, 'sealpost_queue_bytes')).toBe(batch.reduce((n, e) => n + e.body.byteLength, 0));
    expect(delta(after, before, 'sealpost_sqlite_write_batch_envelopes_count')).toBeGreaterThanOrEqual(4);
    expect(delta(after, before, 'sealpost_sqlite_write_batch_envelopes_sum')).toBe(7);
    expect(delta(after, before, 'sealpost_event_duration_seconds_count{event="send"}')).toBe(7);
    expect(delta(after, before, 'sealpost_event_duration_seconds_count{event="ack"}')).toBe(1);
    expect(get(after, 'sealpost_event_duration_seconds_bucket{le="+Inf",event="send"}')).toBe(get(after, 'sealpost_event_duration_seconds_count{event="send"}'));

    sa.close();
    sb.close();
    const deadline = Date.now() + 3000;
    while (get(await scrape(), 'sealpost_sockets') !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(get(await scrape(), 'sealpost_sockets')).toBe(0);
  });

  it('counts envelopes expired by the sweeper', async () => {
    const short = await startRelay({ ttlMs: 200, sweepIntervalMs: 50 });
    try {
      const carol = await makeAccount();
      const dave = await makeAccount();
      await registerAll(short.url, carol);
      await registerAll(short.url, dave);
      const s = await connectDevice(short.url, carol.devices[0]!);
      expect(await send(s, [envelopeTo(dave.devices[0]!, 'a'), envelopeTo(dave.devices[0]!, 'b')])).toEqual({ ok: true, failed: [] });
      s.close();
      const deadline = Date.now() + 3000;
      let text = '';
      while (Date.now() < deadline) {
        text = await (await fetch(`${short.url}/metrics`)).text();
        if (/^sealpost_envelopes_expired_total 2$/m.test(text)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(text).toMatch(/^sealpost_envelopes_expired_total 2$/m);
      expect(text).toMatch(/^sealpost_queue_envelopes 0$/m);
    } finally {
      await short.close();
    }
  });
});

describe('/healthz and /readyz', () => {
  it('reports live and ready, and not ready while the database cannot take a write lock', async () => {
    expect(await (await fetch(`${relay.url}/healthz`)).json()).toEqual({ ok: true });
    expect(await (await fetch(`${relay.url}/readyz`)).json()).toEqual({ ok: true });
    // Another connection holds the write lock: the relay's probe cannot write.
    const other = new Database(relay.dbPath);
    other.pragma('busy_timeout = 0');
    other.exec('BEGIN EXCLUSIVE');
    try {
      const started = Date.now();
      const response = await fetch(`${relay.url}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: { code: 'unavailable' } });
      // The probe tries once: it does not stall the relay for the busy timeout.
      expect(Date.now() - started).toBeLessThan(1000);
      expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect((await fetch(`${relay.url}/readyz`)).status).toBe(200);
  });
});
