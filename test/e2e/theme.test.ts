/**
 * Dark mode (Chromium, the real relay serving dist/web): the app follows prefers-color-scheme,
 * the System / Light / Dark switch overrides it, the choice survives a reload and is applied by
 * public/theme.js before the app's bundle runs (so before the first paint: no flash of the
 * other theme), other tabs follow, and axe finds nothing serious or critical in either override.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blocking, checkScreen } from './axe.js';
import { forgiveNetworkErrors, register, type WatchedPage } from './helpers.js';
import { openStage, type Stage } from './stage.js';

const LIGHT_BG = 'rgb(244, 245, 247)';
const DARK_BG = 'rgb(15, 20, 25)';

const background = (page: Page) => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
const storedChoice = (page: Page) => page.evaluate(() => localStorage.getItem('sealpost.theme'));
const themeSelect = (page: Page) => page.getByLabel('Theme');

describe('dark mode', () => {
  let stage: Stage;
  let alice: WatchedPage;
  let page: Page;

  beforeAll(async () => {
    stage = await openStage();
  });

  afterAll(async () => {
    await stage?.close();
  });

  it('follows the system setting by default, also when it changes while the page is open', async () => {
    // No service worker: the reload below must reach page.route, which a worker's cache would bypass.
    alice = await stage.page('alice', { colorScheme: 'dark', serviceWorkers: 'block' });
    page = alice.page;
    await page.getByRole('button', { name: 'Create account' }).waitFor();
    expect(await themeSelect(page).inputValue()).toBe('system');
    expect(await background(page)).toBe(DARK_BG);
    await page.emulateMedia({ colorScheme: 'light' });
    expect(await background(page)).toBe(LIGHT_BG);
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await background(page)).toBe(DARK_BG);
  }, 20_000);

  it('a manual choice overrides the system setting and is remembered', async () => {
    await themeSelect(page).selectOption('light');
    expect(await background(page)).toBe(LIGHT_BG);
    expect(await storedChoice(page)).toBe('light');
    await page.emulateMedia({ colorScheme: 'light' });
    await themeSelect(page).selectOption('dark');
    expect(await background(page)).toBe(DARK_BG);
    expect(await storedChoice(page)).toBe('dark');
    await page.reload();
    await page.getByRole('button', { name: 'Create account' }).waitFor();
    expect(await themeSelect(page).inputValue()).toBe('dark');
    expect(await background(page)).toBe(DARK_BG);
  }, 20_000);

  it('applies the stored choice before the app bundle runs (no flash of the other theme)', async () => {
    // Without its JavaScript the app never renders: what is drawn then is what the first paint shows.
    await page.route(/\/assets\/.*\.js$/, (route) => route.abort());
    try {
      await forgiveNetworkErrors(stage.pages, async () => {
        await page.reload({ waitUntil: 'load' });
      }, /Failed to load resource: net::ERR_FAILED/);
      expect(await page.locator('#app').innerHTML()).toBe('');
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
      expect(await background(page)).toBe(DARK_BG);
    } finally {
      await page.unroute(/\/assets\/.*\.js$/);
    }
    await page.reload();
    await page.getByRole('button', { name: 'Create account' }).waitFor();
  }, 20_000);

  it('passes axe in either override, against the other system setting', async () => {
    // Emulated light system, dark choice (and the reverse): the override alone decides the colours.
    await page.emulateMedia({ colorScheme: 'light' });
    const dark = await checkScreen(page, 'first run, Dark chosen', 'light');
    expect(dark.background).toBe(DARK_BG);
    await themeSelect(page).selectOption('light');
    const light = await checkScreen(page, 'first run, Light chosen', 'dark');
    expect(light.background).toBe(LIGHT_BG);
    expect(blocking([dark, light])).toEqual([]);
  }, 30_000);

  it('signed in, the switch is beside the conversation list; System follows the system again; other tabs follow', async () => {
    await register(page, 'alice');
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await background(page)).toBe(LIGHT_BG); // still the Light choice from the first run
    const other = (await stage.tab(alice, 'alice (second tab)')).page;
    expect(await background(other)).toBe(LIGHT_BG);
    await themeSelect(page).selectOption('system');
    expect(await background(page)).toBe(DARK_BG);
    expect(await storedChoice(page)).toBeNull();
    await expect.poll(() => background(other)).toBe(DARK_BG);
    await other.close();
    const conversationsPanel = page.getByRole('region', { name: 'Conversations' });
    expect(await conversationsPanel.getByLabel('Theme').isVisible()).toBe(true);
    expect(blocking([await checkScreen(page, 'conversation list', 'dark')])).toEqual([]);
  }, 30_000);

  it('left no console or page errors (theme.js runs under the relay’s Content-Security-Policy)', () => {
    for (const watched of stage.pages) expect(watched.problems, watched.name).toEqual([]);
  });
});
