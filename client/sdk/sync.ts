/**
 * Sync among own devices (protocol v2): what a newly linked device needs to carry on where the
 * others are — contacts with their pinned identity keys and verified marks, groups with their
 * members, the conversation list and device names — and never message history. Sent as `sync`
 * contents (own devices only, so only this account's verified devices can send them), in chunks
 * that stay far below the relay's envelope cap.
 */
import { SYNC_CHUNK, type ContentDraft, type SyncContent } from './content.js';
import type { PendingEvent } from './apply-content.js';
import { isNewerName, namesToShare } from './device-names.js';
import { normalizeGroup } from './group-rules.js';
import { randomId } from './random.js';
import type { LocalStore, StoreBatch } from './store/local-store.js';
import type { Conversation, ConversationRecord, DeviceNameRecord } from './store/records.js';

export function conversationKey(c: Conversation): string {
  return c.kind === 'direct' ? `direct:${c.handle}` : `group:${c.groupId}`;
}

/** Every conversation this device knows: from history, groups and earlier syncs. */
export function knownConversations(store: LocalStore): ConversationRecord[] {
  const byKey = new Map<string, ConversationRecord>();
  for (const record of store.all('conversations')) byKey.set(conversationKey(record.conversation), record);
  for (const group of store.all('groups')) byKey.set(conversationKey({ kind: 'group', groupId: group.groupId }), { conversation: { kind: 'group', groupId: group.groupId }, at: group.updatedAt });
  for (const message of store.all('messages')) {
    const key = conversationKey(message.conversation);
    const at = byKey.get(key)?.at ?? message.storedAt;
    byKey.set(key, { conversation: message.conversation, at: Math.min(at, message.storedAt) });
  }
  return [...byKey.values()].sort((a, b) => a.at - b.at);
}

type SyncDraft = Extract<ContentDraft, { type: 'sync' }>;

/** The whole account state as one or more `sync` contents; `namesOnly` for a rename. */
export function buildSync(store: LocalStore, ownHandle: string, namesOnly = false): ContentDraft[] {
  const contacts = namesOnly ? [] : store.all('contacts').filter((c) => c.handle !== ownHandle)
    .map((c) => ({ handle: c.handle, identityKey: c.identityKey, verified: c.verified === true }));
  const groups = namesOnly ? [] : store.all('groups').map((g) => ({ groupId: g.groupId, epoch: g.epoch, name: g.name, members: g.members, admins: g.admins, updatedAt: g.updatedAt }));
  const conversations = namesOnly ? [] : knownConversations(store).map((r) => r.conversation);
  const deviceNames = namesToShare(store, store.get('account', 'self'));
  const chunks = Math.max(1, Math.ceil(Math.max(contacts.length, groups.length, conversations.length) / SYNC_CHUNK));
  const drafts: SyncDraft[] = [];
  for (let i = 0; i < chunks; i++) {
    const slice = <T>(items: T[]) => items.slice(i * SYNC_CHUNK, (i + 1) * SYNC_CHUNK);
    drafts.push({
      type: 'sync', id: randomId(), ts: Date.now(), full: !namesOnly,
      contacts: slice(contacts), groups: slice(groups), conversations: slice(conversations),
      deviceNames: i === 0 ? deviceNames : [],
    });
  }
  return drafts;
}

/**
 * Takes in a sync from one of our own devices. What this device already knows wins where the
 * two disagree on a pinned key (a sync never silently replaces a pinned identity); groups take
 * the newer epoch; names the newer name.
 */
export function applySync(batch: StoreBatch, content: SyncContent): PendingEvent[] {
  for (const c of content.contacts) {
    const existing = batch.get('contacts', c.handle);
    if (!existing) batch.put('contacts', c.handle, { handle: c.handle, identityKey: c.identityKey, devices: [], lookedUpAt: 0, ...(c.verified ? { verified: true } : {}) });
    else if (existing.identityKey === c.identityKey && c.verified && !existing.verified) batch.put('contacts', c.handle, { ...existing, verified: true });
  }
  for (const g of content.groups) {
    const existing = batch.get('groups', g.groupId);
    if (!existing || existing.epoch < g.epoch) batch.put('groups', g.groupId, normalizeGroup(g));
  }
  for (const conversation of content.conversations) {
    const key = conversationKey(conversation);
    if (!batch.get('conversations', key)) batch.put('conversations', key, { conversation, at: content.ts });
  }
  const renamed: DeviceNameRecord[] = [];
  for (const n of content.deviceNames) {
    if (isNewerName(batch.get('deviceNames', n.deviceId), n)) {
      batch.put('deviceNames', n.deviceId, n);
      renamed.push(n);
    }
  }
  const events: PendingEvent[] = [];
  if (renamed.length > 0) events.push({ event: 'device_names', payload: { names: renamed.map(({ deviceId, name }) => ({ deviceId, name })) } });
  if (content.full) {
    events.push({ event: 'synced', payload: { contacts: content.contacts.length, groups: content.groups.length, conversations: content.conversations.length } });
  }
  return events;
}
