/**
 * Browser helpers for the web client's end-to-end suite: pages that record every console
 * error, page error and dialog (the suite asserts there are none), and the few UI steps the
 * scenario repeats.
 */
import type { BrowserContext, Page } from 'playwright-core';

export const STEP_TIMEOUT = 15_000;

export interface WatchedPage {
  name: string;
  page: Page;
  problems: string[];
  dialogs: string[];
}

export async function openPage(context: BrowserContext, name: string, url: string, all: WatchedPage[]): Promise<WatchedPage> {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  const watched: WatchedPage = { name, page, problems: [], dialogs: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') watched.problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => watched.problems.push(`pageerror: ${error.message}`));
  page.on('dialog', (dialog) => {
    watched.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  all.push(watched);
  await page.goto(url);
  return watched;
}

export async function waitConnected(page: Page): Promise<void> {
  try {
    await page.locator('.connection[data-state="connected"]').waitFor();
  } catch (error) {
    // Say what the page showed instead, so a failure here can be told apart from a slow page.
    const element = page.locator('.connection').first();
    const status = await element.getAttribute('data-state', { timeout: 1000 }).catch(() => 'no status element');
    const reason = await element.getAttribute('title', { timeout: 1000 }).catch(() => null);
    const notice = await page.locator('.notice').allTextContents().catch(() => []);
    throw new Error(`page never connected: status ${status} (${reason ?? 'no reason shown'}); notices ${JSON.stringify(notice)}`, { cause: error });
  }
}

export async function register(page: Page, handle: string): Promise<void> {
  await page.getByLabel('Pick a handle').fill(handle);
  await page.getByRole('button', { name: 'Create account' }).click();
  await waitConnected(page);
}

export async function openConversation(page: Page, key: string): Promise<void> {
  await page.locator(`[data-conversation="${key}"]`).click();
  await page.locator('#composer-text').waitFor();
}

export async function sendText(page: Page, text: string): Promise<void> {
  const box = page.locator('#composer-text');
  await box.fill(text);
  await box.press('Enter');
  await page.locator('.bubble.outgoing .text', { hasText: text }).last().waitFor();
}

/** Resolves once a bubble with exactly `text` is in the timeline. */
export async function seeText(page: Page, text: string): Promise<void> {
  await page.locator('.bubble .text').getByText(text, { exact: true }).last().waitFor();
}

export async function bubbleState(page: Page, text: string, state: string): Promise<void> {
  await page.locator(`.bubble.outgoing[data-state="${state}"]`).filter({ has: page.getByText(text, { exact: true }) }).last().waitFor();
}

export async function timelineTexts(page: Page): Promise<string[]> {
  return page.locator('.bubble .text').allTextContents();
}

const NETWORK_ERROR = /ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_EMPTY_RESPONSE|WebSocket connection to .* failed/;

/**
 * Runs `step` (which takes the relay away, or makes it refuse a request, on purpose) and drops
 * only the console errors that matches `expected` (by default, the network errors it causes).
 */
export async function forgiveNetworkErrors(pages: WatchedPage[], step: () => Promise<void>, expected: RegExp = NETWORK_ERROR): Promise<void> {
  const before = new Map(pages.map((p) => [p, p.problems.length]));
  await step();
  for (const page of pages) {
    const kept = page.problems.slice(before.get(page) ?? 0).filter((problem) => !expected.test(problem));
    page.problems.splice(before.get(page) ?? 0, Infinity, ...kept);
  }
}

/** Opens the Devices screen and waits until its list of own devices is shown. */
export async function openDevices(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Devices', exact: true }).click();
  await page.locator('.devices li').first().waitFor();
}

/** The row of one of this account's devices on the Devices screen. */
export function deviceRow(page: Page, deviceId: string) {
  return page.locator(`.devices li[data-device-id="${deviceId}"]`);
}

/** The id of the device the page runs on (from its row marked "This device"). */
export async function currentDeviceId(page: Page): Promise<string> {
  return (await page.locator('.devices li[data-current="true"]').getAttribute('data-device-id')) ?? '';
}
