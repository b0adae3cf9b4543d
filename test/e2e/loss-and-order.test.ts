/**
 * No silent loss and no reordering, in the web client (Chromium, the real relay, SDK clients in
 * Node as the other people). bob uses the browser; alice and mallory are SDK clients.
 * - A backlog delivered in reverse (the relay's queue emptied, the same sealed bodies pushed
 *   back in reverse through mallory's socket) reads in the order alice wrote it.
 * - An envelope the relay dropped shows as "A message from alice did not arrive" where it
 *   belongs; alice sees it as not arrived, sends it again, and the line goes.
 * - bob's own message dropped on the way shows "May not have been delivered" with "Send
 *   again", which delivers it.
 * - A contact's device that could not decrypt leaves a quiet note; the SDK sends again.
 * - A device a send could not reach is named in words, in one notice however often it recurs.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url } from '../../crypto/index.js';
import { randomId } from '../../client/sdk/random.js';
import { linkDevice, rawSend, registerDevice, tempDir, textsFrom, waitFor, type TestDevice } from '../sdk/helpers.js';
import { bubbleState, openConversation, seeText, sendText, timelineTexts, waitConnected, type WatchedPage } from './helpers.js';
import { SHOTS, openStage, type Stage } from './stage.js';

describe('loss and order in the web client (Chromium)', () => {
  let stage: Stage;
  const profiles = tempDir('sealpost-e2e-loss-');
  let alice: TestDevice;
  let mallory: TestDevice;
  let malloryPhone: TestDevice | undefined;
  let bob: WatchedPage;
  let bobDevice = '';
  const toBob = { kind: 'direct', handle: 'bob' } as const;

  /** alice sends `texts` while bob's page is closed; returns each message id with its envelope to bob's device. */
  const sendWhileBobAway = async (texts: string[]) => {
    await bob.page.close();
    const sent: Array<{ id: string; envelope: string; body: Uint8Array }> = [];
    for (const text of texts) {
      const outgoing = await alice.client.send('bob', text);
      const envelope = alice.client.store.all('outbox').find((e) => e.messageId === outgoing.id && e.to === bobDevice)!;
      sent.push({ id: outgoing.id, envelope: envelope.id, body: fromBase64Url(envelope.body) });
      await outgoing.stored;
    }
    return sent;
  };
  const reopenBob = async () => {
    bob = await stage.tab(bob, 'bob (reopened)');
    await waitConnected(bob.page);
  };
  const state = (id: string) => alice.client.store.get('messages', id)?.state;
  const queuedIds = async (deviceId: string) => (await stage.relay.app.store.readQueue(deviceId, 0, 1000, Date.now())).map((e) => e.id);

  beforeAll(async () => {
    stage = await openStage();
    alice = await registerDevice(profiles.path, stage.relay.url, 'alice');
    mallory = await registerDevice(profiles.path, stage.relay.url, 'mallory');
  });

  afterAll(async () => {
    for (const device of [alice, mallory, malloryPhone]) await device?.client.close().catch(() => undefined);
    await stage?.close();
    profiles.remove();
  });

  it('bob registers in the browser and reads alice', async () => {
    bob = await stage.person('bob');
    bobDevice = (await alice.client.lookup('bob')).devices[0]!.deviceId;
    await (await alice.client.send('bob', 'hello')).stored;
    await openConversation(bob.page, 'd:alice');
    await seeText(bob.page, 'hello');
  }, 30_000);

  it('shows a backlog delivered in reverse in the order alice wrote it', async () => {
    const sent = await sendWhileBobAway(['first', 'second', 'third']);
    // The relay's queue held them in order: empty it and push the same bodies back in reverse.
    await stage.relay.app.store.ackUpTo(bobDevice, Number.MAX_SAFE_INTEGER);
    for (const { body } of [...sent].reverse()) expect((await rawSend(mallory.client, [{ to: bobDevice, id: randomId(), body }])).ok).toBe(true);

    await reopenBob();
    // Unread counts are about arrival: all three are new.
    await bob.page.locator('[data-conversation="d:alice"] .unread').getByText('3').waitFor();
    await openConversation(bob.page, 'd:alice');
    await seeText(bob.page, 'first');
    await seeText(bob.page, 'third');
    expect(await timelineTexts(bob.page)).toEqual(['hello', 'first', 'second', 'third']);
    await waitFor(() => sent.every((m) => state(m.id) === 'read'), 'bob read all three');
  }, 40_000);

  it('shows an envelope the relay dropped as a missing message until alice sends it again', async () => {
    const sent = await sendWhileBobAway(['one', 'two', 'three']);
    expect(await stage.relay.app.store.ackIds(bobDevice, [sent[1]!.envelope])).toBe(1);

    await reopenBob();
    await openConversation(bob.page, 'd:alice');
    await seeText(bob.page, 'three');
    // A skipped count is "missing" once it stayed unfilled for 10 s (it might just be late).
    const gap = bob.page.locator('.timeline .note.gap');
    await gap.getByText('A message from alice did not arrive', { exact: true }).waitFor({ timeout: 20_000 });
    // Where it belongs: between "one" and "three".
    const rows = await bob.page.locator('.timeline > li.bubble .text, .timeline > li.note.gap').allTextContents();
    expect(rows.slice(-3)).toEqual(['one', 'A message from alice did not arrive', 'three']);
    await bob.page.screenshot({ path: resolve(SHOTS, 'loss-missing.png') });

    // alice's side: "three" was delivered, "two" was not.
    await waitFor(() => state(sent[2]!.id) === 'read', 'bob read three');
    expect(alice.client.notArrived(toBob)).toEqual([sent[1]!.id]);
    await alice.client.resend(sent[1]!.id);
    await seeText(bob.page, 'two');
    await gap.waitFor({ state: 'detached' });
    expect((await timelineTexts(bob.page)).slice(-3)).toEqual(['one', 'two', 'three']);
    await waitFor(() => state(sent[1]!.id) === 'read', 'two is read');
    expect(alice.client.notArrived(toBob)).toEqual([]);
  }, 60_000);

  it('flags bob’s own message the relay dropped, and “Send again” delivers it', async () => {
    const aliceDevice = alice.client.deviceId!;
    await alice.client.close();
    // bob's app sends its delivered receipts up to 50 ms after a message arrives (they are
    // gathered): let any still on their way land before taking the queue's snapshot.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = new Set(await queuedIds(aliceDevice));
    await sendText(bob.page, 'lost on the way');
    await bubbleState(bob.page, 'lost on the way', 'stored');
    const added = (await queuedIds(aliceDevice)).filter((id) => !before.has(id));
    expect(added).toHaveLength(1);
    expect(await stage.relay.app.store.ackIds(aliceDevice, added)).toBe(1);
    await sendText(bob.page, 'this one arrives');
    await bubbleState(bob.page, 'this one arrives', 'stored');

    alice = await alice.reopen();
    await bubbleState(bob.page, 'this one arrives', 'delivered');
    const lost = bob.page.locator('.bubble.outgoing.not-arrived').filter({ has: bob.page.getByText('lost on the way', { exact: true }) });
    await lost.getByText('May not have been delivered').waitFor();
    expect(await bob.page.locator('.bubble.not-arrived').count()).toBe(1);
    await bob.page.screenshot({ path: resolve(SHOTS, 'loss-not-delivered.png') });

    await lost.getByRole('button', { name: 'Send again' }).click();
    await waitFor(() => textsFrom(alice, 'bob').includes('lost on the way'), 'alice gets the message sent again');
    await bubbleState(bob.page, 'lost on the way', 'delivered');
    await bob.page.locator('.bubble.not-arrived').waitFor({ state: 'detached' });
    // Sent again unchanged: alice holds it once, in the order bob wrote it.
    expect(alice.client.messages({ kind: 'direct', handle: 'bob' }).map((m) => m.text).slice(-2)).toEqual(['lost on the way', 'this one arrives']);
  }, 40_000);

  it('notes quietly when alice’s device could not read bob’s message, and it arrives when sent again', async () => {
    // alice loses her session with bob's device (e.g. a restored backup) and is offline while bob
    // writes, so his text waits at the relay sealed in the session she no longer has.
    await alice.client.store.commit([{ collection: 'sessions', key: bobDevice, value: null }]);
    await alice.client.close();
    await sendText(bob.page, 'into a broken session');
    await bubbleState(bob.page, 'into a broken session', 'stored');
    alice = await alice.reopen();
    await bob.page.locator('.timeline .note').getByText('alice’s device could not read a message; it was sent again', { exact: true }).waitFor();
    await waitFor(() => textsFrom(alice, 'bob').includes('into a broken session'), 'alice gets it in the new session');
    await bubbleState(bob.page, 'into a broken session', 'delivered');
  }, 40_000);

  it('says in words why one of mallory’s devices was not sent to, once however often it happens', async () => {
    // mallory links a second device; a malicious relay gives it a signed prekey it never signed.
    malloryPhone = await linkDevice(profiles.path, stage.relay.url, mallory, 'mallory-phone');
    const db = new Database(stage.relay.dbPath);
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare('UPDATE devices SET spk_signature = ? WHERE device_id = ?').run(randomBytes(64).toString('base64url'), malloryPhone.client.deviceId);
    } finally {
      db.close();
    }
    await bob.page.getByLabel('Start a conversation').fill('mallory');
    await bob.page.getByRole('button', { name: 'Start', exact: true }).click();
    await bob.page.locator('#composer-text').waitFor();
    // Her other device still gets every message; the refused one is named, once.
    for (const text of ['hi mallory', 'hi again']) {
      await sendText(bob.page, text);
      await bubbleState(bob.page, text, 'delivered');
    }
    expect(textsFrom(mallory, 'bob')).toEqual(['hi mallory', 'hi again']);
    const problem = bob.page.locator('.notice.send-problem');
    await problem.getByText('Could not send to one of mallory’s devices (its keys do not match what mallory’s account signed).').waitFor();
    expect(await problem.count()).toBe(1);
    await bob.page.screenshot({ path: resolve(SHOTS, 'loss-send-problem.png') });
    await problem.getByRole('button', { name: 'Dismiss' }).click();
    await problem.waitFor({ state: 'detached' });
  }, 40_000);

  it('left no console or page errors', () => {
    for (const page of stage.pages) expect(page.problems, page.name).toEqual([]);
  });
});
