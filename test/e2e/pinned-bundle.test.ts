/**
 * A client the relay cannot change unseen, in Chromium against a real relay: the first load
 * pins the bundle's hash (About this app shows it, equal to the build's version.json); then the
 * relay's static folder is altered (a changed JavaScript asset under a new name, index.html
 * pointing to it, a changed sw.js, version.json rewritten to match, as a relay operator would
 * ship it) and the relay restarted on it, on the same origin. Before that, a script changed in
 * place under its pinned name (version.json left alone) changes nothing and asks nothing. Reloads and reopening keep running the pinned bundle while the page asks "This relay
 * offers a different version of the app (version, hash) — update?"; only after Update does the
 * altered code run.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundle, writeBundleManifest, type BundleManifest } from '../../client/app/bundle-manifest.js';
import { forgiveNetworkErrors, register, STEP_TIMEOUT, waitConnected, type WatchedPage } from './helpers.js';
import { CLIENT_DIR, openStage, type Stage } from './stage.js';

const ALTERED_VERSION = '0.1.0-altered';
/** What the altered bundle does that the original never does: mark the document. */
const ALTERED_CODE = '\ndocument.documentElement.dataset.altered = "yes";\n';

/**
 * The relay's copy of the app, altered the way a relay operator could ship it: every script
 * renamed (as a rebuild would: new content, new hashed name; the chunks import one another by
 * name, so every reference is rewritten), the entry script doing something new, index.html
 * pointing to it, sw.js changed. Returns the new manifest.
 */
function alterBundle(dir: string): BundleManifest {
  const assets = join(dir, 'assets');
  const scripts = readdirSync(assets).filter((name) => name.endsWith('.js'));
  const renamed = new Map(scripts.map((name) => [name, name.replace(/-([A-Za-z0-9_-]+)\.js$/, '-Altered$1.js')]));
  const rename = (text: string) => [...renamed].reduce((out, [from, to]) => out.split(from).join(to), text);
  const entry = readFileSync(join(dir, 'index.html'), 'utf8').match(/assets\/(index-[A-Za-z0-9_-]+\.js)/)?.[1];
  if (!entry) throw new Error('no entry script in index.html');
  for (const [from, to] of renamed) {
    writeFileSync(join(assets, to), rename(readFileSync(join(assets, from), 'utf8')) + (from === entry ? ALTERED_CODE : ''));
  }
  writeFileSync(join(dir, 'index.html'), rename(readFileSync(join(dir, 'index.html'), 'utf8')));
  writeFileSync(join(dir, 'sw.js'), `${readFileSync(join(dir, 'sw.js'), 'utf8')}\n// altered by the relay\n`);
  // The relay serves a .br/.gz copy when one exists: drop those of the changed files.
  for (const name of ['index.html', 'sw.js']) for (const ext of ['.br', '.gz']) rmSync(join(dir, name + ext), { force: true });
  return writeBundleManifest(dir, ALTERED_VERSION);
}

/**
 * Copies the build (CLIENT_DIR) into `dir` and returns its manifest, once the copy is whole (its
 * files hash to what its version.json says): a build running meanwhile empties and refills it.
 */
async function copyBuild(dir: string): Promise<BundleManifest> {
  for (let attempt = 0; attempt < 30; attempt++) {
    rmSync(dir, { recursive: true, force: true });
    try {
      cpSync(CLIENT_DIR, dir, { recursive: true });
      const listed = JSON.parse(readFileSync(join(dir, 'version.json'), 'utf8')) as BundleManifest;
      const copied = readBundle(dir, listed.version);
      if (copied.hash === listed.hash && copied.files['sw.js'] && copied.files['manifest.webmanifest']) return copied;
    } catch {
      // not there (yet): try again
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error('dist/web is not built (or has no version.json): run `npm run build:client` first');
}

async function shownHash(page: Page): Promise<string> {
  return (await page.getByTestId('bundle-hash').textContent()) ?? '';
}

async function runsAltered(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.dataset['altered'] === 'yes');
}

async function waitingWorker(page: Page): Promise<boolean> {
  return page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.waiting != null);
}

describe('a pinned bundle: the relay cannot change the app unseen (Chromium)', () => {
  let dir: string;
  let stage: Stage;
  let alice: WatchedPage;
  let original: BundleManifest;
  let altered: BundleManifest;
  const prompt = () => alice.page.getByRole('region', { name: 'App update' });
  /** The relay lists its static files when it starts: restart it on the same origin, as an operator deploying a new build would. */
  const restartRelay = () =>
    forgiveNetworkErrors(stage.pages, async () => {
      await stage.restartRelay();
      // Its refused reconnect attempts are logged until the page is back.
      await waitConnected(alice.page);
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-pinned-'));
    original = await copyBuild(dir);
    stage = await openStage({ staticDir: dir });
    alice = await stage.page('alice');
  }, 60_000);

  afterAll(async () => {
    await stage?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pins the bundle on first load and shows its version and hash, equal to the build’s', async () => {
    await register(alice.page, `pin${Date.now().toString(36)}`);
    await expect.poll(() => shownHash(alice.page), { timeout: STEP_TIMEOUT }).toBe(original.hash);
    expect(await alice.page.getByTestId('app-version').textContent()).toBe(JSON.parse(readFileSync(join(dir, 'version.json'), 'utf8')).version);
    // The worker claimed the page: from now on, what it serves is the pinned copy.
    expect(await alice.page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toBe(`${stage.relay.url}/sw.js`);
    expect(await prompt().count()).toBe(0);
    expect(await runsAltered(alice.page)).toBe(false);
  });

  it('ignores a script changed in place with version.json left as it was, and does not ask', async () => {
    const entry = readFileSync(join(dir, 'index.html'), 'utf8').match(/assets\/(index-[A-Za-z0-9_-]+\.js)/)?.[1] ?? '';
    const path = join(dir, 'assets', entry);
    writeFileSync(path, readFileSync(path, 'utf8') + ALTERED_CODE);
    for (const ext of ['.br', '.gz']) rmSync(path + ext, { force: true });
    await restartRelay();
    // The relay now serves the changed script under the pinned name.
    expect(await (await fetch(`${stage.relay.url}/assets/${entry}`)).text()).toContain(ALTERED_CODE.trim());
    await alice.page.reload();
    await alice.page.locator('.topbar').waitFor();
    await alice.page.getByText('About this app').click();
    await alice.page.getByRole('button', { name: 'Check for a new version' }).click();
    await alice.page.getByText('The relay offers no other version (its version.json lists this bundle).').waitFor();
    expect(await runsAltered(alice.page)).toBe(false);
    expect(await prompt().count()).toBe(0);
    expect(await shownHash(alice.page)).toBe(original.hash);
  }, 60_000);

  it('keeps running the pinned bundle when the relay serves an altered one, and asks', async () => {
    altered = alterBundle(dir);
    expect(altered.hash).not.toBe(original.hash);
    await restartRelay();
    // The relay really serves the altered files now.
    expect(await (await fetch(`${stage.relay.url}/`)).text()).toMatch(/assets\/index-Altered[A-Za-z0-9_-]+\.js/);

    await alice.page.reload();
    await prompt().waitFor();
    const text = (await prompt().textContent()) ?? '';
    expect(text).toContain('This relay offers a different version of the app');
    expect(text).toContain(`version ${ALTERED_VERSION}`);
    expect(text).toContain(altered.hash);
    expect(text).toContain('update?');
    expect(await runsAltered(alice.page)).toBe(false);
    expect(await alice.page.locator('script[src*="-Altered"]').count()).toBe(0);
    expect(await shownHash(alice.page)).toBe(original.hash);
    // The browser found the changed sw.js; it waits instead of taking over.
    await expect.poll(() => waitingWorker(alice.page), { timeout: STEP_TIMEOUT }).toBe(true);

    // "Not now" hides the question for this page only; the next load asks again, still pinned.
    await prompt().getByRole('button', { name: 'Not now' }).click();
    expect(await prompt().count()).toBe(0);
    await alice.page.reload();
    await prompt().waitFor();
    expect(await runsAltered(alice.page)).toBe(false);
  }, 60_000);

  it('still runs the pinned bundle after every tab closed and the changed worker took over', async () => {
    // No page left: the browser activates the waiting (changed) worker, which honours the pin.
    // It does so once the closed page is gone for good; a page opened before that would be
    // controlled by the old worker again. So watch the workers' states through DevTools, from a
    // blank page of the same profile (not in the worker's scope: it holds nothing back).
    const context = alice.page.context();
    const watcher = await context.newPage();
    try {
      const cdp = await context.newCDPSession(watcher);
      const versions = new Map<string, { scriptURL: string; status: string }>();
      cdp.on('ServiceWorker.workerVersionUpdated', (event) => {
        for (const version of event.versions) versions.set(version.versionId, version);
      });
      await cdp.send('ServiceWorker.enable');
      const waitingIds = () => [...versions].filter(([, v]) => v.scriptURL === `${stage.relay.url}/sw.js` && v.status === 'installed').map(([id]) => id);
      await expect.poll(waitingIds, { timeout: STEP_TIMEOUT }).toHaveLength(1);
      const [changed] = waitingIds();
      await alice.page.close();
      await expect.poll(() => versions.get(changed!)?.status, { timeout: STEP_TIMEOUT }).toBe('activated');
    } finally {
      await watcher.close();
    }
    alice = await stage.tab(alice, 'alice (reopened)');
    await alice.page.locator('.topbar').waitFor();
    await prompt().waitFor();
    expect(await runsAltered(alice.page)).toBe(false);
    // The prompt may show before the worker's answer with the pin arrives.
    await expect.poll(() => shownHash(alice.page), { timeout: STEP_TIMEOUT }).toBe(original.hash);
    expect(await waitingWorker(alice.page)).toBe(false);
  }, 60_000);

  it('runs the new bundle once the user agrees', async () => {
    await prompt().getByRole('button', { name: 'Update' }).click();
    await expect.poll(() => runsAltered(alice.page).catch(() => false), { timeout: STEP_TIMEOUT }).toBe(true);
    await alice.page.locator('.topbar').waitFor();
    await expect.poll(() => shownHash(alice.page), { timeout: STEP_TIMEOUT }).toBe(altered.hash);
    expect(await alice.page.getByTestId('app-version').textContent()).toBe(ALTERED_VERSION);
    expect(await prompt().count()).toBe(0);
    // And it stays: the next load runs the newly pinned bundle.
    await alice.page.reload();
    await alice.page.locator('.topbar').waitFor();
    expect(await runsAltered(alice.page)).toBe(true);
  }, 60_000);

  it('left no console or page errors', () => {
    expect(stage.pages.flatMap((p) => p.problems)).toEqual([]);
  });
});
