/**
 * The e2e suites' stage: a real relay (port 0, temporary data) serving the built web app,
 * Debian's Chromium, and pages in browser contexts of their own, all closed together.
 */
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions } from 'playwright-core';
import type { Config } from '../../server/config.js';
import { launchBrowser } from '../support/browser.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { openPage, register, type WatchedPage } from './helpers.js';

// SEALPOST_WEB_DIR: a build of one's own, when others rebuild dist/web while a suite runs.
export const CLIENT_DIR = resolve(process.env.SEALPOST_WEB_DIR ?? 'dist/web');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export interface Stage {
  /** Replaced when a test restarts the relay (same port and data). */
  relay: RelayHandle;
  browser: Browser;
  pages: WatchedPage[];
  contexts: BrowserContext[];
  /** A registered person in a fresh context (desktop size unless told). */
  person(handle: string, options?: BrowserContextOptions): Promise<WatchedPage>;
  /** A page of the app in a fresh context, not registered (desktop size unless told). */
  page(name: string, options?: BrowserContextOptions): Promise<WatchedPage>;
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
    async page(name, options = {}) {
      const context = await browser.newContext({ viewport: DESKTOP, ...options });
      contexts.push(context);
      return openPage(context, name, stage.relay.url, pages);
    },
    async person(handle, options = {}) {
      const watched = await stage.page(handle, options);
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
