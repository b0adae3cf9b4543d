/**
 * Shared set-up of the rough-edges suites (issue 19, item 1): a real relay serving the built app,
 * Debian's Chromium, and people registered in their own browser contexts. Also the two checks
 * every screen gets: nothing wider than the viewport, and no raw snake_case code on screen.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Config } from '../../server/config.js';
import { launchBrowser } from '../support/browser.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { openPage, register, type WatchedPage } from './helpers.js';

export const CLIENT_DIR = resolve('dist/web');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
/** What a refused lookup (404) or a dropped connection makes Chromium log; expected where a step causes it. */
export const EXPECTED_NETWORK_NOISE = /status of 404|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|WebSocket connection to .* failed/;

export interface Stage {
  /** Replaced when a test restarts the relay (same port and data). */
  relay: RelayHandle;
  browser: Browser;
  pages: WatchedPage[];
  contexts: BrowserContext[];
  /** A registered person in a fresh context (desktop size unless told). */
  person(handle: string, options?: BrowserContextOptions): Promise<WatchedPage>;
  close(): Promise<void>;
}

export async function openStage(relayOptions: Partial<Config> = {}): Promise<Stage> {
  // `npm test` builds first; a missing build must fail loudly, not skip the suite.
  if (!existsSync(resolve(CLIENT_DIR, 'index.html'))) throw new Error('dist/web is not built: run `npm run build:client` first');
  const relay = await startRelay({ staticDir: CLIENT_DIR, ...relayOptions });
  const browser = await launchBrowser();
  const pages: WatchedPage[] = [];
  const contexts: BrowserContext[] = [];
  const stage: Stage = {
    relay,
    browser,
    pages,
    contexts,
    async person(handle, options = {}) {
      const context = await browser.newContext({ viewport: DESKTOP, ...options });
      contexts.push(context);
      const watched = await openPage(context, handle, stage.relay.url, pages);
      await register(watched.page, handle);
      return watched;
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
      const dir = stage.relay.dir;
      await stage.relay.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stage;
}

/** Drops the console errors a step caused on purpose (a 404 lookup, a network cut), keeps any other. */
export function forgive(page: WatchedPage, pattern: RegExp = EXPECTED_NETWORK_NOISE): void {
  const kept = page.problems.filter((problem) => !pattern.test(problem));
  page.problems.splice(0, Infinity, ...kept);
}

/** A screenshot for looking at (test-results/screenshots/rough-edges-NAME.png; not compared). */
export async function shot(page: Page, name: string): Promise<void> {
  const dir = resolve('test-results/screenshots');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: resolve(dir, `rough-edges-${name}.png`) });
}

/** The page is no wider than the viewport, and each named button is fully on screen. */
export async function expectFits(page: Page, buttons: Array<string | RegExp>): Promise<void> {
  const viewport = page.viewportSize()!;
  const widths = await page.evaluate(() => ({ document: document.documentElement.scrollWidth, body: document.body.scrollWidth }));
  expect(widths.document, `page width at ${viewport.width}px`).toBeLessThanOrEqual(viewport.width);
  expect(widths.body, `body width at ${viewport.width}px`).toBeLessThanOrEqual(viewport.width);
  for (const name of buttons) {
    const box = await page.getByRole('button', { name, exact: typeof name === 'string' }).first().boundingBox();
    expect(box, `${String(name)} is shown`).not.toBeNull();
    expect(box!.x, `${String(name)} starts on screen`).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width, `${String(name)} ends on screen at ${viewport.width}px`).toBeLessThanOrEqual(viewport.width);
    expect(box!.y + box!.height, `${String(name)} is above the bottom at ${viewport.height}px`).toBeLessThanOrEqual(viewport.height);
  }
}

/**
 * A code such as too_large or decrypt_failed anywhere a person can read it: the page's text,
 * and its tooltips and accessible labels. Handles in these suites have no underscore.
 */
export async function rawCodesShown(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const texts = [document.body.innerText, document.title];
    for (const element of document.querySelectorAll('[title], [aria-label], [placeholder]')) {
      for (const name of ['title', 'aria-label', 'placeholder']) texts.push(element.getAttribute(name) ?? '');
    }
    return texts.flatMap((text) => text.match(/\b[a-z]+(?:_[a-z]+)+\b/g) ?? []);
  });
}
