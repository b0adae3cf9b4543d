/**
 * The e2e suites' stage: a real relay (port 0, temporary data) serving the built web app,
 * Debian's Chromium, and pages in browser contexts of their own, all closed together.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
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
/** Screenshots for looking at, not compared (openStage makes the folder). */
export const SHOTS = resolve('test-results/screenshots');

export interface Stage {
  /** Replaced by restartRelay() (same port and data): read it afresh, do not keep a copy. */
  relay: RelayHandle;
  browser: Browser;
  pages: WatchedPage[];
  contexts: BrowserContext[];
  /** A registered person in a fresh context (desktop size unless told). */
  person(handle: string, options?: BrowserContextOptions): Promise<WatchedPage>;
  /** A page of the app in a fresh context, not registered (desktop size unless told). */
  page(name: string, options?: BrowserContextOptions): Promise<WatchedPage>;
  /** Another tab in the context of `of`: the same browser profile. `of` may have been closed. */
  tab(of: WatchedPage, name: string): Promise<WatchedPage>;
  /**
   * Stops the relay, runs `whileDown` (what the pages do without it), and starts it again on the
   * same port, data and log, so the pages reconnect to the same origin and the privacy scans
   * still read every run's files.
   */
  restartRelay(whileDown?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

export async function openStage(relayOptions: Partial<Config> = {}): Promise<Stage> {
  // `npm test` builds first; a missing build must fail loudly, not skip the suite. A suite may
  // serve a copy of its own (relayOptions.staticDir): that is the one that must be whole.
  const served = relayOptions.staticDir ?? CLIENT_DIR;
  if (!existsSync(resolve(served, 'index.html'))) throw new Error(`${served} is not built: run \`npm run build:client\` first`);
  mkdirSync(SHOTS, { recursive: true });
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
    tab(of, name) {
      return openPage(of.page.context(), name, stage.relay.url, pages);
    },
    async restartRelay(whileDown = async () => undefined) {
      const port = Number(new URL(stage.relay.url).port);
      await stage.relay.close({ keepData: true });
      await whileDown();
      // restart() keeps the relay's options and its temporary directory (removed by close()).
      stage.relay = await stage.relay.restart({ port });
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
