/**
 * Reading the local history: a conversation's messages in the senders' order, what may be
 * missing from it, and which of our messages may not have arrived. Pure reads of the store.
 *
 * Order: by the sender's clock, then by the sending device's text count — not by arrival, so a
 * backlog delivered in another order still reads in the order it was written.
 * Missing: a device's text count that skipped a number (the relay dropped one, or it is still on
 * its way) and stays unfilled for GAP_GRACE_MS.
 * Not arrived: our message still only `stored` while a later one of ours in the same
 * conversation was already delivered — the recipient is online, so this one was lost.
 */
import type { LocalStore } from './store/local-store.js';
import type { Conversation, MessageRecord } from './store/records.js';

/** How long a skipped count may stay unfilled before it is shown as missing. */
export const GAP_GRACE_MS = 10_000;

export interface MissingMessages {
  handle: string;
  deviceId: string;
  /** The sending device's text counts not received. */
  counts: number[];
}

export function sameConversation(a: Conversation, b: Conversation): boolean {
  return a.kind === 'direct' ? b.kind === 'direct' && a.handle === b.handle : b.kind === 'group' && a.groupId === b.groupId;
}

export function messagesOf(store: LocalStore, conversation?: Conversation): MessageRecord[] {
  return store.all('messages')
    .filter((m) => !conversation || sameConversation(m.conversation, conversation))
    .sort((a, b) => a.ts - b.ts || (a.fromDevice === b.fromDevice ? (a.n ?? 0) - (b.n ?? 0) : a.storedAt - b.storedAt));
}

export function missingIn(store: LocalStore, conversation: Conversation, now = Date.now()): MissingMessages[] {
  return store.all('receivedCounts')
    .filter((r) => sameConversation(r.conversation, conversation))
    .map((r) => ({ handle: r.handle, deviceId: r.deviceId, counts: r.missing.filter((m) => now - m.since >= GAP_GRACE_MS).map((m) => m.n) }))
    .filter((r) => r.counts.length > 0);
}

const ARRIVED = new Set(['delivered', 'read']);

/** Only messages this device sent (`deviceId`): another of our devices answers for its own. */
export function notArrivedIn(store: LocalStore, conversation: Conversation, deviceId: string): string[] {
  const ours = messagesOf(store, conversation).filter((m) => m.outgoing && m.fromDevice === deviceId);
  const lastArrived = ours.reduce((at, m) => (ARRIVED.has(m.state) ? Math.max(at, m.ts) : at), -Infinity);
  return ours.filter((m) => m.state === 'stored' && m.ts < lastArrived).map((m) => m.id);
}

/** This device's recent messages to `handle` (direct or in a group with it) that it has not confirmed. */
export function unconfirmedTo(store: LocalStore, handle: string, deviceId: string, since: number, limit: number): MessageRecord[] {
  return store.all('messages')
    .filter((m) => m.outgoing && m.fromDevice === deviceId && m.ts >= since && (m.state === 'stored' || m.state === 'failed'))
    .filter((m) => (m.conversation.kind === 'direct' ? m.conversation.handle === handle : store.get('groups', m.conversation.groupId)?.members.includes(handle) === true))
    .sort((a, b) => a.ts - b.ts)
    .slice(-limit);
}
