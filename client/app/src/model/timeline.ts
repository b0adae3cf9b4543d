/**
 * One conversation's timeline: messages in the senders' order (as the SDK reads its history:
 * the sender's clock, then each sending device's count — not arrival, so a backlog delivered
 * out of order still reads as written), lines for messages that never arrived, membership
 * notes and sends that never got queued (placed among the messages by their time).
 */
import type { Conversation, MessageRecord } from '../../../sdk/index.js';
import type { TimelineNote } from './app-memory.js';

/** A send the SDK refused before queuing anything (e.g. lookup failed): kept in memory for retry. */
export interface UnsentMessage {
  localId: string;
  conversation: Conversation;
  text: string;
  ts: number;
  reason: string;
  /** Failed only because the relay was unreachable: sent again automatically on reconnect. */
  retryOnReconnect: boolean;
  /** Sending it again can never succeed (e.g. too large): no Retry, only Delete. */
  permanent?: boolean;
}

/** Texts one of a contact's devices sent here that never arrived (the SDK's `missing`). */
export interface MissingFrom {
  handle: string;
  deviceId: string;
  counts: number[];
}

/** A run of missing texts from one device, shown where they belong: before its next text that did arrive. */
export interface TimelineGap {
  id: string;
  handle: string;
  count: number;
}

export type TimelineItem =
  | { kind: 'message'; at: number; message: MessageRecord; notArrived: boolean }
  | { kind: 'gap'; at: number; gap: TimelineGap }
  | { kind: 'note'; at: number; note: TimelineNote }
  | { kind: 'unsent'; at: number; unsent: UnsentMessage };

export interface TimelineParts {
  /** In the SDK's order (client.messages(conversation)); kept as given. */
  messages: readonly MessageRecord[];
  notes?: readonly TimelineNote[];
  unsent?: readonly UnsentMessage[];
  missing?: readonly MissingFrom[];
  /** Ids of our messages that may not have been delivered (client.notArrived). */
  notArrived?: readonly string[];
}

export function buildTimeline({ messages, notes = [], unsent = [], missing = [], notArrived = [] }: TimelineParts): TimelineItem[] {
  const late = new Set(notArrived);
  const { before, trailing } = placeGaps(messages, missing);
  const sequence: TimelineItem[] = [];
  for (const message of messages) {
    for (const gap of before.get(message.id) ?? []) sequence.push({ kind: 'gap', at: message.ts, gap });
    sequence.push({ kind: 'message', at: message.ts, message, notArrived: late.has(message.id) });
  }
  const lastAt = messages.length > 0 ? messages[messages.length - 1]!.ts : 0;
  for (const gap of trailing) sequence.push({ kind: 'gap', at: lastAt, gap });

  // Notes and unsent drafts go among the messages by their time; on a tie, after them.
  const extras: TimelineItem[] = [
    ...notes.map((note): TimelineItem => ({ kind: 'note', at: note.ts, note })),
    ...unsent.map((item): TimelineItem => ({ kind: 'unsent', at: item.ts, unsent: item })),
  ].sort((a, b) => a.at - b.at);
  const items: TimelineItem[] = [];
  let next = 0;
  for (const item of sequence) {
    while (next < extras.length && extras[next]!.at < item.at) items.push(extras[next++]!);
    items.push(item);
  }
  return items.concat(extras.slice(next));
}

/**
 * Each missing count goes before the first text of the same device with a higher count (the
 * text that revealed the gap); consecutive missing counts there make one line.
 */
function placeGaps(messages: readonly MessageRecord[], missing: readonly MissingFrom[]): { before: Map<string, TimelineGap[]>; trailing: TimelineGap[] } {
  const before = new Map<string, TimelineGap[]>();
  const trailing: TimelineGap[] = [];
  for (const { handle, deviceId, counts } of missing) {
    const fromDevice = messages.filter((m) => m.fromDevice === deviceId && m.n !== undefined).sort((a, b) => a.n! - b.n!);
    const runs = new Map<string, number>();
    for (const count of counts) {
      const anchor = fromDevice.find((m) => m.n! > count)?.id ?? '';
      runs.set(anchor, (runs.get(anchor) ?? 0) + 1);
    }
    for (const [anchor, count] of runs) {
      const gap: TimelineGap = { id: `${deviceId}:${anchor}`, handle, count };
      if (anchor === '') trailing.push(gap);
      else before.set(anchor, [...(before.get(anchor) ?? []), gap]);
    }
  }
  return { before, trailing };
}

/** "A message from bob did not arrive" — or several, or from another of our own devices. */
export function gapText(gap: TimelineGap, me: string | undefined): string {
  const what = gap.count === 1 ? 'A message' : `${gap.count} messages`;
  if (gap.handle === me) return `${what} sent from another of your devices did not arrive here`;
  return `${what} from ${gap.handle} did not arrive`;
}

/** The local calendar day of a timestamp, for day separators. */
export function dayOf(ts: number): string {
  const date = new Date(ts);
  return `${date.getFullYear()}-${date.getMonth() + 1}-${date.getDate()}`;
}

export function dayLabel(ts: number, now = Date.now()): string {
  if (dayOf(ts) === dayOf(now)) return 'Today';
  if (dayOf(ts) === dayOf(now - 86_400_000)) return 'Yesterday';
  return new Date(ts).toLocaleDateString(undefined, { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric' });
}

export function timeLabel(ts: number): string {
  return new Date(ts).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}
