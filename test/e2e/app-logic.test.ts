/**
 * The web client's view logic without a browser: routes in the URL fragment, the conversation
 * list (unread counts, order), timelines, the app's own memory and typing indicators.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SdkError, type MessageRecord, type SdkErrorCode } from '../../client/sdk/index.js';
import { AppMemory } from '../../client/app/src/model/app-memory.js';
import { summarize } from '../../client/app/src/model/conversation-summaries.js';
import { describeError, describeSendProblem } from '../../client/app/src/model/describe-error.js';
import { deviceLabel } from '../../client/app/src/model/own-devices.js';
import { buildTimeline, dayLabel, gapText, type TimelineItem } from '../../client/app/src/model/timeline.js';
import { SendProblems } from '../../client/app/src/model/send-problems.js';
import { GapRedraws } from '../../client/app/src/model/gap-redraws.js';
import { TypingTracker } from '../../client/app/src/model/typing-tracker.js';
import { routeFromHash, routeToHash, type Route } from '../../client/app/src/route.js';

class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

function message(id: string, partial: Partial<MessageRecord>): MessageRecord {
  return {
    id, conversation: { kind: 'direct', handle: 'bob' }, from: 'bob', fromDevice: 'dev', text: id, ts: 1000, storedAt: 1000,
    outgoing: false, state: 'received', ...partial,
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('routes in the URL fragment', () => {
  it('round-trip every screen and fall back to home on anything else', () => {
    const routes: Route[] = [
      { screen: 'home' },
      { screen: 'chat', conversation: { kind: 'direct', handle: 'bob.smith' } },
      { screen: 'chat', conversation: { kind: 'group', groupId: 'AbC-_123xyz' } },
      { screen: 'safety', handle: 'bob' },
      { screen: 'group-settings', groupId: 'AbC-_123xyz' },
      { screen: 'new-group' },
      { screen: 'devices' },
    ];
    for (const route of routes) expect(routeFromHash(routeToHash(route))).toEqual(route);
    for (const junk of ['', '#', '#/nope', '#/chat/x:y', '#/chat/%E0%A4%A', '#/safety/']) expect(routeFromHash(junk)).toEqual({ screen: 'home' });
  });
});

describe('conversation list', () => {
  it('counts unread incoming messages after the read marker and puts the newest conversation first', () => {
    const memory = new AppMemory(new MemoryStorage());
    memory.markStarted('d:carol', 500);
    const messages = [
      message('m1', { storedAt: 1000 }),
      message('m2', { storedAt: 2000 }),
      message('m3', { storedAt: 3000, outgoing: true, from: 'alice', state: 'read' }),
      message('g1', { storedAt: 4000, conversation: { kind: 'group', groupId: 'group-one' } }),
    ];
    memory.markReadUpTo('d:bob', 1000);
    const list = summarize(messages, [{ groupId: 'group-one', epoch: 1, name: 'Team', members: ['alice', 'bob'], admins: ['alice'], updatedAt: 10 }], memory);
    expect(list.map((s) => [s.key, s.title, s.unread, s.last?.id])).toEqual([
      ['g:group-one', 'Team', 1, 'g1'],
      ['d:bob', 'bob', 1, 'm3'],
      ['d:carol', 'carol', 0, undefined],
    ]);
  });
});

describe('conversations synced to a newly linked device', () => {
  it('are listed without history, and take their place by when they became known', () => {
    const memory = new AppMemory(new MemoryStorage());
    const list = summarize(
      [message('m1', { storedAt: 5000, conversation: { kind: 'direct', handle: 'carol' }, from: 'carol' })],
      [],
      memory,
      [
        { conversation: { kind: 'direct', handle: 'bob' }, at: 3000 },
        { conversation: { kind: 'group', groupId: 'g1' }, at: 4000 },
        { conversation: { kind: 'direct', handle: 'carol' }, at: 1000 },
      ],
    );
    expect(list.map((s) => [s.key, s.last?.id, s.activeAt])).toEqual([
      ['d:carol', 'm1', 5000],
      ['g:g1', undefined, 4000],
      ['d:bob', undefined, 3000],
    ]);
  });
});

describe('own devices', () => {
  it('show their name, or "Unnamed device" and a short id', () => {
    expect(deviceLabel('AbCdEfGhIjKl', 'Work laptop')).toBe('Work laptop');
    expect(deviceLabel('AbCdEfGhIjKl', undefined)).toBe('Unnamed device · AbCdEfGh');
  });
});

describe('errors in words', () => {
  it('say what the protocol v2 refusals mean, without the code', () => {
    const codes: SdkErrorCode[] = ['untrusted_device_list', 'no_authority', 'wrong_recovery_key', 'device_removed', 'unsupported_version', 'invalid_reply', 'link_timeout'];
    for (const code of codes) {
      const text = describeError(new SdkError(code, 'internal detail'));
      expect(text, code).not.toContain(code);
      expect(text, code).not.toContain('internal detail');
      expect(text.length, code).toBeGreaterThan(30);
    }
    expect(describeError(new SdkError('wrong_recovery_key', 'x'))).toBe('That recovery key does not belong to this account, or a character is mistyped.');
    expect(describeError(new SdkError('untrusted_device_list', 'x', { handle: 'bob' }))).toContain('bob’s devices');
  });

  it('say which recipient a send could not reach and why, once per recipient and reason', () => {
    expect(describeSendProblem({ handle: 'bob', deviceId: 'd1', code: 'untrusted_device' }, 'alice'))
      .toBe('Could not send to one of bob’s devices (its keys do not match what bob’s account signed).');
    expect(describeSendProblem({ handle: 'bob', code: 'quota_exceeded' }, 'alice')).toBe('Could not send to bob (their inbox on the relay is full of undelivered messages).');
    expect(describeSendProblem({ handle: 'alice', deviceId: 'd2', code: 'unknown_device' }, 'alice')).toContain('one of your other devices');
    expect(describeSendProblem({ handle: 'bob', code: 'something_new' }, 'alice')).toBe('Could not send to bob (the relay gave a reason this version of the app does not know).');
    const problems = new SendProblems();
    expect(problems.add({ handle: 'bob', deviceId: 'd1', code: 'untrusted_device' }, 'alice')).toBe(true);
    expect(problems.add({ handle: 'bob', deviceId: 'd2', code: 'untrusted_device' }, 'alice')).toBe(false);
    expect(problems.add({ handle: 'bob', code: 'quota_exceeded' }, 'alice')).toBe(true);
    expect(problems.list()).toHaveLength(2);
    problems.dismiss(problems.list()[0]!.key);
    expect(problems.add({ handle: 'bob', deviceId: 'd1', code: 'untrusted_device' }, 'alice')).toBe(true);
  });
});

describe('timeline', () => {
  const idOf = (i: TimelineItem) => (i.kind === 'message' ? i.message.id : i.kind === 'note' ? i.note.id : i.kind === 'gap' ? `gap:${i.gap.handle}:${i.gap.count}` : i.unsent.localId);

  it('keeps the SDK’s order (the senders’) and puts notes and unsent drafts among the messages by time', () => {
    // Arrival (storedAt) is reversed: the timeline does not follow it.
    const items = buildTimeline({
      messages: [message('a', { ts: 10, storedAt: 90 }), message('b', { ts: 30, storedAt: 80 }), message('c', { ts: 30, storedAt: 70 })],
      notes: [{ id: 'n', conversation: 'd:bob', ts: 20, text: 'note' }],
      unsent: [{ localId: 'u', conversation: { kind: 'direct', handle: 'bob' }, text: 'x', ts: 40, reason: 'r', retryOnReconnect: false }],
    });
    expect(items.map(idOf)).toEqual(['a', 'n', 'b', 'c', 'u']);
  });

  it('shows missing texts before the next text of the same device, and flags ours that may not have arrived', () => {
    const items = buildTimeline({
      messages: [
        message('b1', { ts: 10, n: 1 }),
        message('mine', { ts: 15, outgoing: true, from: 'alice', fromDevice: 'mine', n: 1, state: 'stored' }),
        message('b4', { ts: 20, n: 4 }),
        message('b6', { ts: 30, n: 6 }),
      ],
      missing: [{ handle: 'bob', deviceId: 'dev', counts: [2, 3, 5, 9] }],
      notArrived: ['mine'],
    });
    expect(items.map(idOf)).toEqual(['b1', 'mine', 'gap:bob:2', 'b4', 'gap:bob:1', 'b6', 'gap:bob:1']);
    expect(items.filter((i) => i.kind === 'message' && i.notArrived).map(idOf)).toEqual(['mine']);
    const gaps = items.flatMap((i) => (i.kind === 'gap' ? [gapText(i.gap, 'alice')] : []));
    expect(gaps).toEqual(['2 messages from bob did not arrive', 'A message from bob did not arrive', 'A message from bob did not arrive']);
    expect(gapText({ id: 'x', handle: 'alice', count: 1 }, 'alice')).toBe('A message sent from another of your devices did not arrive here');
  });

  it('redraws once a gap may count as missing (10 s after an arrival), at most once a second', () => {
    vi.useFakeTimers();
    let redraws = 0;
    const gaps = new GapRedraws(() => redraws++);
    for (let i = 0; i < 20; i++) gaps.afterArrival(); // a backlog batch
    vi.advanceTimersByTime(9_000);
    expect(redraws).toBe(0);
    vi.advanceTimersByTime(2_300);
    expect(redraws).toBe(1);
    gaps.afterArrival();
    gaps.stop();
    vi.advanceTimersByTime(12_000);
    expect(redraws).toBe(1);
  });

  it('labels today and yesterday', () => {
    const now = new Date(2026, 10, 22, 12).getTime();
    expect(dayLabel(now - 3_600_000, now)).toBe('Today');
    expect(dayLabel(now - 86_400_000, now)).toBe('Yesterday');
    expect(dayLabel(now - 5 * 86_400_000, now)).not.toMatch(/Today|Yesterday/);
  });
});

describe('app memory', () => {
  it('persists read markers, started conversations and notes, and erases them', () => {
    const storage = new MemoryStorage();
    const memory = new AppMemory(storage);
    memory.markReadUpTo('d:bob', 50);
    memory.markReadUpTo('d:bob', 40); // never moves back
    memory.markStarted('d:bob', 7);
    memory.addNote({ id: 'n1', conversation: 'g:x', ts: 1, text: 'alice added bob' });
    memory.addNote({ id: 'n1', conversation: 'g:x', ts: 1, text: 'alice added bob' });
    expect(memory.recoveryKeySeenAt()).toBeUndefined();
    memory.markRecoveryKeySeen(99);
    const again = new AppMemory(storage);
    expect(again.readUpTo('d:bob')).toBe(50);
    expect(again.startedAt('d:bob')).toBe(7);
    expect(again.notes('g:x')).toHaveLength(1);
    expect(again.recoveryKeySeenAt()).toBe(99);
    again.erase();
    expect(new AppMemory(storage).startedKeys()).toEqual([]);
    expect(new AppMemory(storage).recoveryKeySeenAt()).toBeUndefined();
  });

  it('starts empty from a corrupt entry', () => {
    const storage = new MemoryStorage();
    storage.setItem('sealpost.app.v1', '{not json');
    expect(new AppMemory(storage).readUpTo('d:bob')).toBe(0);
  });
});

describe('typing indicators', () => {
  it('expire on their own and end when the person sends', () => {
    vi.useFakeTimers();
    const tracker = new TypingTracker(() => undefined);
    tracker.remoteTyping('d:bob', 'bob', true);
    expect(tracker.typingIn('d:bob')).toEqual(['bob']);
    tracker.remoteSent('d:bob', 'bob');
    expect(tracker.typingIn('d:bob')).toEqual([]);
    tracker.remoteTyping('d:bob', 'bob', true);
    vi.advanceTimersByTime(7_000);
    expect(tracker.typingIn('d:bob')).toEqual([]);
  });

  it('sends "typing" at most every few seconds and "stopped" after a pause', () => {
    vi.useFakeTimers();
    const sent: boolean[] = [];
    const tracker = new TypingTracker(() => undefined);
    const send = (typing: boolean) => sent.push(typing);
    for (let i = 0; i < 10; i++) {
      tracker.localKeystroke('d:bob', send);
      vi.advanceTimersByTime(200);
    }
    expect(sent).toEqual([true]);
    vi.advanceTimersByTime(4_000);
    expect(sent).toEqual([true, false]);
    tracker.localStopped('d:bob', send); // nothing more to stop
    expect(sent).toEqual([true, false]);
  });
});

describe('text is only ever rendered as text', () => {
  it('no HTML-parsing sink appears anywhere in client/', () => {
    const sink = /innerHTML|outerHTML|insertAdjacentHTML|dangerouslySetInnerHTML|document\.write|DOMParser|createContextualFragment/;
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.(tsx?|html)$/.test(entry.name) && sink.test(readFileSync(path, 'utf8'))) offenders.push(path);
      }
    };
    walk('client');
    expect(offenders).toEqual([]);
  });
});
