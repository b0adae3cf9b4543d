/**
 * What the rough-edges suites (issue 19, item 1) share besides the stage (stage.ts): the two
 * checks every screen gets — nothing wider than the viewport, no raw snake_case code on screen —
 * forgiving the console errors a step causes on purpose, and screenshots for looking at.
 */
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import type { WatchedPage } from './helpers.js';
import { SHOTS } from './stage.js';

export { DESKTOP, PHONE, openStage, type Stage } from './stage.js';

/** What a refused lookup (404) or a dropped connection makes Chromium log; expected where a step causes it. */
export const EXPECTED_NETWORK_NOISE = /status of 404|ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_REFUSED|WebSocket connection to .* failed/;

/** Drops the console errors a step caused on purpose (a 404 lookup, a network cut), keeps any other. */
export function forgive(page: WatchedPage, pattern: RegExp = EXPECTED_NETWORK_NOISE): void {
  const kept = page.problems.filter((problem) => !pattern.test(problem));
  page.problems.splice(0, Infinity, ...kept);
}

/** A screenshot for looking at (test-results/screenshots/rough-edges-NAME.png; not compared). */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(SHOTS, `rough-edges-${name}.png`) });
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
