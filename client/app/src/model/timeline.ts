/** One conversation's timeline: messages, membership notes and sends that never got queued. */
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
}

export type TimelineItem =
  | { kind: 'message'; at: number; message: MessageRecord }
  | { kind: 'note'; at: number; note: TimelineNote }
  | { kind: 'unsent'; at: number; unsent: UnsentMessage };

export function buildTimeline(messages: readonly MessageRecord[], notes: readonly TimelineNote[], unsent: readonly UnsentMessage[]): TimelineItem[] {
  const items: TimelineItem[] = [
    ...messages.map((message): TimelineItem => ({ kind: 'message', at: message.storedAt, message })),
    ...notes.map((note): TimelineItem => ({ kind: 'note', at: note.ts, note })),
    ...unsent.map((item): TimelineItem => ({ kind: 'unsent', at: item.ts, unsent: item })),
  ];
  // Stable sort: messages keep the SDK's order when their times tie.
  return items.sort((a, b) => a.at - b.at);
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
