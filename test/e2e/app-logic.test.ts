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
import { describeError } from '../../client/app/src/model/describe-error.js';
import { deviceLabel } from '../../client/app/src/model/own-devices.js';
import { buildTimeline, dayLabel } from '../../client/app/src/model/timeline.js';
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
});

describe('timeline', () => {
  it('interleaves messages, notes and unsent drafts by time, keeping equal times in order', () => {
    const items = buildTimeline(
      [message('a', { storedAt: 10 }), message('b', { storedAt: 30 }), message('c', { storedAt: 30 })],
      [{ id: 'n', conversation: 'd:bob', ts: 20, text: 'note' }],
      [{ localId: 'u', conversation: { kind: 'direct', handle: 'bob' }, text: 'x', ts: 40, reason: 'r', retryOnReconnect: false }],
    );
    expect(items.map((i) => (i.kind === 'message' ? i.message.id : i.kind === 'note' ? i.note.id : i.unsent.localId))).toEqual(['a', 'n', 'b', 'c', 'u']);
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
