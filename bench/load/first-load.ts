/**
 * (i) First load on a slow mobile link: Debian's Chromium (never a downloaded browser) opens the
 * web app from the real relay, which serves the built app (dist/web) as shipped — brotli, cache
 * headers and all — over an emulated slow 4G link (the DevTools protocol's
 * Network.emulateNetworkConditions: 1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip) with the
 * browser cache disabled. Each load is a fresh browser context: no HTTP cache, no service worker,
 * no profile, as a first visit. The time is from navigation start (the page's time origin) to a
 * usable page: the handle field of the first-run screen, or the conversation list's field,
 * visible and enabled — libsodium loaded and the profile opened, since neither renders before.
 */
import { chromium, type Browser } from 'playwright-core';
import type { LoadResult } from '../ipc.js';
import { median } from '../stats.js';

/** Debian's Chromium, as the e2e suite uses (test/support/browser.ts); SEALPOST_CHROMIUM overrides. */
export const CHROMIUM_PATH = process.env['SEALPOST_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Slow 4G as the issue states it; throughputs in bytes per second. */
export const SLOW_4G = { offline: false, latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 } as const;
/** One load may take this long before it counts as failed (a broken build never becomes usable). */
const LOAD_TIMEOUT_MS = 30_000;

export interface FirstLoadParams {
  /** Loads measured (after one unmeasured warm-up load that lets the relay and Chromium settle). */
  loads: number;
}

/** Whether the page shows a usable field: returns the page's clock then, else false (run inside the page). */
function usableAt(): number | false {
  const field = document.querySelector<HTMLInputElement>('#handle-input, #new-conversation-handle');
  if (!field || field.disabled) return false;
  const box = field.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && getComputedStyle(field).visibility !== 'hidden' ? performance.now() : false;
}

async function oneLoad(browser: Browser, url: string): Promise<{ ms: number; bytes: number }> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
    let bytes = 0;
    cdp.on('Network.loadingFinished', (event: { encodedDataLength: number }) => {
      bytes += event.encodedDataLength;
    });
    await page.goto(url, { waitUntil: 'commit', timeout: LOAD_TIMEOUT_MS });
    const handle = await page.waitForFunction(usableAt, undefined, { polling: 'raf', timeout: LOAD_TIMEOUT_MS });
    const ms = (await handle.jsonValue()) as number;
    return { ms, bytes };
  } finally {
    await context.close();
  }
}

export async function runFirstLoad(url: string, params: FirstLoadParams): Promise<LoadResult> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  try {
    await oneLoad(browser, url);
    const loads: { ms: number; bytes: number }[] = [];
    for (let i = 0; i < params.loads; i++) loads.push(await oneLoad(browser, url));
    const times = loads.map((l) => l.ms);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpuStart);
    return {
      completed: loads.length,
      seconds,
      errors: 0,
      firstLoadMs: median(times),
      firstLoadMinMs: Math.min(...times),
      firstLoadMaxMs: Math.max(...times),
      firstLoadKiB: (median(loads.map((l) => l.bytes)) ?? 0) / 1024,
      loadCpuPct: ((used.user + used.system) / 1e6 / seconds) * 100,
    };
  } finally {
    await browser.close();
  }
}
