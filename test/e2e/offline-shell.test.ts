/**
 * The installable app, in Chromium against a real relay: the page links a web app manifest
 * (name, standalone, icons 192/512 and maskable, all served); after one load the service worker
 * holds the app shell, so with the network gone a reload still opens the app, its conversation
 * and history, and a message typed offline is shown as queued, then delivered once back online.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bubbleState, forgiveNetworkErrors, openConversation, register, seeText, sendText, STEP_TIMEOUT, waitConnected, type WatchedPage } from './helpers.js';
import { openStage, type Stage } from './stage.js';

/** What Chromium logs for requests made while it emulates a lost network. */
const OFFLINE_ERRORS = /ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|WebSocket connection to .* failed|Failed to load resource/;

interface WebManifest {
  name: string;
  start_url: string;
  display: string;
  theme_color: string;
  icons: { src: string; sizes: string; type: string; purpose?: string }[];
}

describe('installable app with an offline shell (Chromium)', () => {
  let stage: Stage;
  let alice: WatchedPage;
  let bob: WatchedPage;
  const suffix = Date.now().toString(36).slice(-5);

  beforeAll(async () => {
    stage = await openStage();
    alice = await stage.page('alice');
    bob = await stage.page('bob');
  }, 60_000);

  afterAll(async () => {
    await stage?.close();
  });

  it('links a web app manifest with standalone display and 192, 512 and maskable icons, all served', async () => {
    const href = await alice.page.locator('link[rel="manifest"]').getAttribute('href');
    expect(href).toBeTruthy();
    const url = new URL(href ?? '', `${stage.relay.url}/`).href;
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/manifest\+json/);
    const manifest = (await response.json()) as WebManifest;
    expect(manifest.name).toBe('Sealpost');
    expect(manifest.display).toBe('standalone');
    expect(new URL(manifest.start_url, url).href).toBe(`${stage.relay.url}/`);
    expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
    const icon = (size: string, purpose: string) => manifest.icons.find((i) => i.sizes === size && (i.purpose ?? 'any').split(' ').includes(purpose));
    for (const found of [icon('192x192', 'any'), icon('512x512', 'any'), icon('512x512', 'maskable')]) {
      expect(found?.type).toBe('image/png');
      const png = await fetch(new URL(found?.src ?? '', url));
      expect(png.status).toBe(200);
      // A real PNG of the size it claims: the IHDR chunk holds width and height.
      const bytes = Buffer.from(await png.arrayBuffer());
      expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(`${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`).toBe(found?.sizes);
    }
  });

  it('serves index.html revalidated on every load and hashed assets immutable', async () => {
    const page = await fetch(`${stage.relay.url}/`, { headers: { 'accept-encoding': 'br' } });
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-encoding')).toBe('br');
    const script = (await page.text()).match(/assets\/index-[A-Za-z0-9_-]+\.js/)?.[0];
    const asset = await fetch(`${stage.relay.url}/${script}`, { headers: { 'accept-encoding': 'br' } });
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-encoding')).toBe('br');
    expect((await fetch(`${stage.relay.url}/version.json`)).headers.get('cache-control')).toBe('no-cache');
  });

  it('opens offline after one load, with its history, and shows a message typed offline as queued', async () => {
    await register(alice.page, `off${suffix}`);
    await register(bob.page, `bob${suffix}`);
    await alice.page.getByLabel('Start a conversation').fill(`bob${suffix}`);
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    await sendText(alice.page, 'sent while online');
    await bubbleState(alice.page, 'sent while online', 'delivered');
    // The worker pinned the shell and controls the page.
    await expect.poll(() => alice.page.getByTestId('bundle-hash').textContent(), { timeout: STEP_TIMEOUT }).toMatch(/^[0-9a-f]{64}$/);
    expect(await alice.page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

    await forgiveNetworkErrors(
      stage.pages,
      async () => {
        await alice.page.context().setOffline(true);
        // The relay is out of reach now, not merely slow: a reload from the network would fail.
        expect(await alice.page.evaluate(() => fetch('/healthz').then(() => 'reached', () => 'unreachable'))).toBe('unreachable');
        await alice.page.reload();
        await alice.page.locator('.topbar').waitFor();
        await openConversation(alice.page, `d:bob${suffix}`);
        await seeText(alice.page, 'sent while online');
        const box = alice.page.locator('#composer-text');
        await box.fill('typed while offline');
        await box.press('Enter');
        const queued = alice.page.locator('.bubble.outgoing').filter({ has: alice.page.getByText('typed while offline', { exact: true }) });
        await queued.getByText('Queued — will send when connected').waitFor();

        await alice.page.context().setOffline(false);
        await waitConnected(alice.page);
        await bubbleState(alice.page, 'typed while offline', 'delivered');
      },
      OFFLINE_ERRORS,
    );
    await openConversation(bob.page, `d:off${suffix}`);
    await seeText(bob.page, 'typed while offline');
  }, 60_000);

  it('left no console or page errors', () => {
    expect(stage.pages.flatMap((p) => p.problems)).toEqual([]);
  });
});
