/**
 * What the live region says for a burst of arrivals (client/app/src/model/announcements.ts):
 * the open conversation's message in full, another conversation's by sender only, a burst as
 * one sentence, and nothing for our own messages from another device.
 */
import { describe, expect, it } from 'vitest';
import type { Conversation, MessageEvent } from '../../client/sdk/index.js';
import { describeArrivals } from '../../client/app/src/model/announcements.js';

const bob: Conversation = { kind: 'direct', handle: 'bob' };
const team: Conversation = { kind: 'group', groupId: 'g1' };
const title = (c: Conversation) => (c.kind === 'group' ? 'Team' : c.handle);
let n = 0;
const arrival = (conversation: Conversation, from: string, text: string, extra: Partial<MessageEvent> = {}): MessageEvent =>
  ({ id: `m${n++}`, conversation, from, device: 'd', text, ts: n, outgoing: false, ...extra });

describe('announcing arrivals', () => {
  it('reads the open conversation’s message with its sender; elsewhere only who wrote', () => {
    expect(describeArrivals([arrival(bob, 'bob', 'hi there')], bob, title)).toBe('@bob: hi there');
    expect(describeArrivals([arrival(bob, 'bob', 'hi there')], team, title)).toBe('New message from @bob');
    expect(describeArrivals([arrival(team, 'carol', 'lunch?')], team, title)).toBe('@carol in Team: lunch?');
    expect(describeArrivals([arrival(team, 'carol', 'lunch?')], undefined, title)).toBe('New message from @carol in Team');
  });

  it('names a file sent without a caption', () => {
    const attachment = { fileName: 'plan.pdf' } as MessageEvent['attachment'];
    expect(describeArrivals([arrival(bob, 'bob', '', { attachment })], bob, title)).toBe('@bob sent a file, plan.pdf');
  });

  it('says a burst in one sentence', () => {
    expect(describeArrivals([arrival(bob, 'bob', 'a'), arrival(bob, 'bob', 'b'), arrival(bob, 'bob', 'c')], bob, title)).toBe('3 new messages from @bob');
    expect(describeArrivals([arrival(team, 'bob', 'a'), arrival(team, 'carol', 'b')], bob, title)).toBe('2 new messages in Team');
    expect(describeArrivals([arrival(bob, 'bob', 'a'), arrival(team, 'carol', 'b')], bob, title)).toBe('2 new messages in 2 conversations');
  });

  it('says nothing for this account’s own messages (copies from its other devices)', () => {
    expect(describeArrivals([arrival(bob, 'alice', 'mine', { outgoing: true })], bob, title)).toBe('');
  });
});
