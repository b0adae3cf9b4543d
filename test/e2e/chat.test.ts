/**
 * The web client end to end: the real relay (serving dist/web, built by `npm run build`)
 * and Debian's Chromium driven by playwright-core. Two isolated browser contexts are two
 * people; a third is alice's second, linked device (phone width). The steps run in order and
 * share state; each has its own bound, and the browser is always closed.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoNeedles, relaySources } from '../support/privacy-scan.js';
import {
  bubbleState, forgiveNetworkErrors, openConversation, register, seeText, sendText, timelineTexts, waitConnected, type WatchedPage,
} from './helpers.js';
import { PHONE, openStage, type Stage } from './stage.js';

// The README's screenshots are rewritten only on request (`npm run screenshots`): every run
// differs in times and ids, and `npm test` should leave the working tree as it found it.
const SHOTS = resolve(process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'test-results/screenshots');
const SHOT_NAMES = [
  'desktop-first-run', 'desktop-conversation', 'desktop-offline-queue', 'desktop-safety-number', 'desktop-group',
  'desktop-identity-warning', 'desktop-devices', 'phone-link-code', 'phone-conversations', 'phone-conversation',
];
// Each screen also in the dark theme (the app follows prefers-color-scheme): `<name>-dark.png`.
const SHOT_FILES = SHOT_NAMES.flatMap((name) => [name, `${name}-dark`]);
const XSS = '<img src=x onerror=alert(1)>';
const PLAINTEXTS = [
  'Hello Bob, this is sealed',
  'Hi Alice, received loud and clear',
  'offline one',
  'offline two',
  'offline three',
  'Reaching both of your devices',
  'Group hello to the team',
  'typed while the relay was down',
  'Are you still you, carol?',
  XSS,
];

describe('web client in Chromium', () => {
  let stage: Stage;
  let alice: WatchedPage;
  let bob: WatchedPage;
  let alicePhone: WatchedPage;
  let carol: WatchedPage;

  const shot = async (name: string, page: WatchedPage) => {
    await page.page.screenshot({ path: resolve(SHOTS, `${name}.png`) });
    await page.page.emulateMedia({ colorScheme: 'dark' });
    await page.page.screenshot({ path: resolve(SHOTS, `${name}-dark.png`) });
    await page.page.emulateMedia({ colorScheme: 'light' });
  };

  beforeAll(async () => {
    stage = await openStage();
    mkdirSync(SHOTS, { recursive: true });
    for (const name of SHOT_FILES) rmSync(resolve(SHOTS, `${name}.png`), { force: true }); // this run's, not an old one
  });

  afterAll(async () => {
    await stage?.close();
  });

  it('loads without errors and registers alice and bob with keys made in the browser', async () => {
    alice = await stage.page('alice');
    await alice.page.getByRole('button', { name: 'Create account' }).waitFor();
    await shot('desktop-first-run', alice);
    await register(alice.page, 'alice');
    bob = await stage.page('bob');
    await register(bob.page, 'bob');
    expect(alice.problems).toEqual([]);
    expect(bob.problems).toEqual([]);
  }, 40_000);

  it('exchanges messages and shows delivered, then read', async () => {
    await alice.page.getByLabel('Start a conversation').fill('bob');
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    await sendText(alice.page, PLAINTEXTS[0]!);
    await bubbleState(alice.page, PLAINTEXTS[0]!, 'delivered');

    await bob.page.locator('[data-conversation="d:alice"] .unread').getByText('1').waitFor();
    await openConversation(bob.page, 'd:alice');
    await seeText(bob.page, PLAINTEXTS[0]!);
    await bubbleState(alice.page, PLAINTEXTS[0]!, 'read');

    await bob.page.locator('#composer-text').pressSequentially('Hi', { delay: 20 });
    await alice.page.locator('.typing').getByText('bob is typing…').waitFor();
    await sendText(bob.page, PLAINTEXTS[1]!);
    await seeText(alice.page, PLAINTEXTS[1]!);
    await bubbleState(bob.page, PLAINTEXTS[1]!, 'read');
  }, 40_000);

  it('delivers what was sent while bob’s page was closed, in order, and keeps history on reload', async () => {
    await bob.page.close();
    for (const text of PLAINTEXTS.slice(2, 5)) await sendText(alice.page, text);
    for (const text of PLAINTEXTS.slice(2, 5)) await bubbleState(alice.page, text, 'stored');

    bob = await stage.tab(bob, 'bob (reopened)');
    await waitConnected(bob.page);
    await openConversation(bob.page, 'd:alice');
    await seeText(bob.page, 'offline three');
    const texts = await timelineTexts(bob.page);
    expect(texts.filter((t) => t.startsWith('offline '))).toEqual(['offline one', 'offline two', 'offline three']);
    expect(texts.indexOf(PLAINTEXTS[0]!)).toBeLessThan(texts.indexOf('offline one'));

    await alice.page.reload();
    await waitConnected(alice.page);
    await openConversation(alice.page, 'd:bob');
    await seeText(alice.page, 'offline three');
    expect(await timelineTexts(alice.page)).toEqual(PLAINTEXTS.slice(0, 5));
  }, 40_000);

  it('shows markup in a message as text and runs nothing', async () => {
    // A handler can only run on an element the markup made, and that element would be made in
    // the same render that shows the text. So instead of waiting for a handler that may just be
    // slow, record every element carrying the payload's marks (an onerror attribute, an img of
    // src "x") that is ever added to bob's page, even if removed again.
    await bob.page.evaluate(() => {
      const made: string[] = [];
      const look = (records: MutationRecord[]) => {
        for (const record of records) {
          const nodes = record.type === 'attributes' ? [record.target] : [...record.addedNodes];
          for (const node of nodes) {
            if (!(node instanceof Element)) continue;
            for (const element of [node, ...node.querySelectorAll('*')]) {
              if (element.hasAttribute('onerror') || (element.tagName === 'IMG' && element.getAttribute('src') === 'x')) made.push(element.outerHTML);
            }
          }
        }
      };
      const observer = new MutationObserver(look);
      observer.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['onerror', 'src'] });
      // Reads the records not yet delivered too, so the answer covers every change made so far.
      (window as unknown as { markupMade: () => string[] }).markupMade = () => {
        look(observer.takeRecords());
        return made;
      };
    });
    await sendText(alice.page, XSS);
    await seeText(bob.page, XSS);
    const bubble = bob.page.locator('.bubble.incoming .text').last();
    expect(await bubble.textContent()).toBe(XSS);
    expect(await bob.page.locator('.timeline img').count()).toBe(0);
    // The text is rendered twice: in the bubble and (for screen readers, a moment later) in the
    // announcer's log. Both renders must have happened before "nothing was made" means anything.
    await bob.page.getByTestId('announcer').getByText(`@alice: ${XSS}`, { exact: true }).waitFor();
    expect(await bob.page.evaluate(() => (window as unknown as { markupMade: () => string[] }).markupMade())).toEqual([]);
    expect(bob.dialogs).toEqual([]);
    expect(alice.dialogs).toEqual([]);
    await shot('desktop-conversation', alice);
  }, 20_000);

  it('queues a message typed while the relay is down and sends it on reconnect', async () => {
    const text = 'typed while the relay was down';
    await forgiveNetworkErrors(stage.pages, async () => {
      await stage.restartRelay(async () => {
        await alice.page.locator('.connection[data-state="connecting"]').waitFor();
        await sendText(alice.page, text);
        await alice.page.locator('.bubble.outgoing[data-state="sending"] .state').getByText('Queued — will send when connected').waitFor();
        await shot('desktop-offline-queue', alice);
      });
      await waitConnected(alice.page);
      await waitConnected(bob.page);
    });
    await seeText(bob.page, text);
    await bubbleState(alice.page, text, 'read');
  }, 40_000);

  it('links a second device to alice and a message reaches both of her devices', async () => {
    alicePhone = await stage.page('alice phone', { viewport: PHONE });
    await alicePhone.page.getByRole('button', { name: 'Link to an existing account' }).click();
    const code = (await alicePhone.page.getByTestId('link-code').textContent())?.trim() ?? '';
    expect(code.length).toBeGreaterThan(20);
    await alicePhone.page.locator('img.qr').waitFor();
    await shot('phone-link-code', alicePhone);

    await alice.page.getByRole('button', { name: 'Devices' }).click();
    await alice.page.getByLabel('Link code').fill(code);
    await alice.page.getByRole('button', { name: 'Link device' }).click();
    await waitConnected(alicePhone.page);
    // v2: the approving device reports success only once the new device confirmed.
    await alice.page.getByTestId('link-success').waitFor();
    await alice.page.locator('.devices li').nth(1).waitFor();
    await shot('desktop-devices', alice);

    await sendText(bob.page, PLAINTEXTS[5]!);
    await openConversation(alice.page, 'd:bob');
    await seeText(alice.page, PLAINTEXTS[5]!);
    await alicePhone.page.locator('[data-conversation="d:bob"]').waitFor();
    await shot('phone-conversations', alicePhone);
    await openConversation(alicePhone.page, 'd:bob');
    await seeText(alicePhone.page, PLAINTEXTS[5]!);
    // A reply from the phone is a copy on alice's desktop too.
    await sendText(alicePhone.page, 'Sent from my phone');
    await seeText(alice.page, 'Sent from my phone');
    await seeText(bob.page, 'Sent from my phone');
    await shot('phone-conversation', alicePhone);
  }, 45_000);

  it('shows the safety number, and a group with members added and removed in its timeline', async () => {
    await alice.page.getByRole('button', { name: 'Safety number' }).click();
    const digits = (await alice.page.getByTestId('safety-number').innerText()).replace(/\s+/g, '');
    expect(digits).toMatch(/^\d{60}$/);
    await alice.page.locator('img.qr').waitFor();
    await shot('desktop-safety-number', alice);

    await alice.page.getByRole('button', { name: 'New group' }).click();
    await alice.page.getByLabel('Group name').fill('Team');
    await alice.page.getByLabel('Members').fill('bob');
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await sendText(alice.page, PLAINTEXTS[6]!);
    await bob.page.locator('.conversation-title', { hasText: 'Team' }).click();
    await seeText(bob.page, PLAINTEXTS[6]!);
    await bob.page.locator('.note').getByText('alice added you to “Team”').waitFor();

    carol = await stage.page('carol');
    await register(carol.page, 'carol');
    await alice.page.getByRole('button', { name: /^Members/ }).click();
    await alice.page.getByLabel('Add a member').fill('carol');
    await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
    await bob.page.locator('.note').getByText('alice added carol').waitFor();
    await carol.page.locator('.conversation-title', { hasText: 'Team' }).click();
    await carol.page.locator('.note').getByText('alice added you to “Team”').waitFor();

    await alice.page.locator('.members li', { hasText: 'carol' }).getByRole('button', { name: 'Remove' }).click();
    await carol.page.locator('.note').getByText('alice removed you').waitFor();
    await carol.page.getByText('You are no longer a member of this group.').waitFor();
    await bob.page.locator('.note').getByText('alice removed carol').waitFor();
    await shot('desktop-group', bob);
  }, 40_000);

  it('blocks sending with a warning when a contact’s identity key changes, until accepted', async () => {
    await alice.page.getByLabel('Start a conversation').fill('carol');
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    await alice.page.locator('#composer-text').waitFor();
    // Play a malicious relay: swap carol's identity key in its database.
    const db = new Database(stage.relay.dbPath);
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare('UPDATE accounts SET identity_key = ? WHERE handle = ?').run(randomBytes(32).toString('base64url'), 'carol');
    } finally {
      db.close();
    }
    // Looking carol up again (starting the conversation anew) finds the change. (Typing no longer
    // looks a contact up: the SDK seals typing indicators to the cached device list.)
    const box = alice.page.locator('#composer-text');
    await box.fill(PLAINTEXTS[8]!);
    await alice.page.getByLabel('Start a conversation').fill('carol');
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    await alice.page.locator('.identity-warning').getByText('carol’s safety number changed.').waitFor();
    expect(await box.isDisabled()).toBe(true);
    await shot('desktop-identity-warning', alice);
    // Accepting happens next to the new number, behind a confirmation (identity-change.test.ts covers it in full).
    await alice.page.getByRole('button', { name: 'Compare and accept the new key' }).click();
    await alice.page.getByRole('button', { name: 'Accept the new key' }).click();
    await alice.page.getByLabel('I compared the numbers with carol and they match').check();
    await alice.page.getByRole('button', { name: 'Confirm: accept carol’s new key' }).click();
    await alice.page.locator('.identity-warning').waitFor({ state: 'detached' });
    await alice.page.getByRole('button', { name: 'Back to the conversation' }).click();
    await box.fill(PLAINTEXTS[8]!);
    expect(await box.isDisabled()).toBe(false);
    // The device list the relay serves is not signed by the key it made up: nothing is sent, and the failure says why.
    await box.press('Enter');
    await alice.page.locator('.bubble[data-state="failed"] .reason').getByText('The relay shows a list of carol’s devices that their account did not sign', { exact: false }).waitFor();
    await alice.page.locator('.bubble[data-state="failed"]').getByRole('button', { name: 'Retry' }).waitFor();
  }, 30_000);

  it('left no console or page errors, and the relay stored none of the plaintexts', async () => {
    for (const page of stage.pages) expect(page.problems, page.name).toEqual([]);
    // Everything in the relay's data directory (SQLite's files, the queue log, the nonce journal,
    // the log both runs of the relay wrote) and its log lines (test/support/privacy-scan.ts).
    await expectNoNeedles(relaySources(stage.relay), [...PLAINTEXTS, 'Sent from my phone']);
  });

  it('wrote a screenshot of every main screen at both widths, light and dark', () => {
    for (const name of SHOT_FILES) expect(statSync(resolve(SHOTS, `${name}.png`)).size, name).toBeGreaterThan(1000);
  });
});
