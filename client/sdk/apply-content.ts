/**
 * What a decrypted content does to local state: messages are recorded, receipts move our own
 * messages forward (never back; a group message only once every member confirmed), group
 * updates are judged by group-rules.ts (newer epoch, from an admin), and `linked` / `sync` only
 * from our own account's devices.
 * Returns the events to emit once the batch is committed, and the delivered receipt to send.
 */
import type { AttachmentContent, GroupContent, TextContent } from './content.js';
import type { GroupEvent, SealpostEvents } from './events.js';
import { groupReceipt, judgeGroupUpdate } from './group-rules.js';
import { applyStateEvent, type StateEvent } from './message-state.js';
import type { Received } from './receiver.js';
import type { LocalStore } from './store/local-store.js';
import { applySync, conversationKey } from './sync.js';
import type { Conversation, MessageRecord } from './store/records.js';

export type PendingEvent = { [E in keyof SealpostEvents]: { event: E; payload: SealpostEvents[E] } }[keyof SealpostEvents];

export interface Applied {
  events: PendingEvent[];
  /** Message ids to confirm to `handle` with a delivered receipt. */
  deliveredReceipt?: { handle: string; messageIds: string[] };
}


export function applyContent(store: LocalStore, ownHandle: string, received: Received): Applied {
  const { content, senderHandle, senderDeviceId } = received;
  switch (content.type) {
    case 'text':
    case 'attachment':
      return applyText(store, ownHandle, received, content);
    case 'receipt': {
      const events: PendingEvent[] = [{ event: 'receipt', payload: { from: senderHandle, device: senderDeviceId, receipt: content.receipt, messageIds: content.messageIds } }];
      for (const id of content.messageIds) {
        const message = received.batch.get('messages', id);
        // Only the recipient of our message may confirm it (not a third party naming its id).
        if (!message?.outgoing || !isRecipient(message.conversation, senderHandle, store)) continue;
        let event: StateEvent | undefined = content.receipt;
        if (message.conversation.kind === 'group') {
          const group = received.batch.get('groups', message.conversation.groupId);
          if (!group) continue;
          const counted = groupReceipt(message, group, senderHandle, content.receipt, ownHandle);
          received.batch.put('messages', id, counted.message);
          event = counted.event;
        }
        const change = event && applyStateEvent(received.batch, id, event);
        if (change) events.push({ event: 'message_state', payload: change });
      }
      return { events };
    }
    case 'typing':
      return {
        events: [{
          event: 'typing',
          payload: { from: senderHandle, device: senderDeviceId, typing: content.typing, ...(content.groupId ? { groupId: content.groupId } : {}) },
        }],
      };
    case 'group':
      return applyGroup(received, content);
    case 'linked':
      // Only our own account's verified devices may announce themselves (receiver.ts checked the device).
      if (senderHandle !== ownHandle) return { events: [] };
      return { events: [{ event: 'device_linked', payload: { deviceId: senderDeviceId } }] };
    case 'sync':
      if (senderHandle !== ownHandle) return { events: [] };
      return { events: applySync(received.batch, content) };
    case 'decryption_error':
      // The session this arrived in is new (a prekey message) and now the active one with that device.
      return { events: [{ event: 'decryption_error', payload: { handle: senderHandle, deviceId: senderDeviceId } }] };
  }
}

/** A text, or a file (a text whose body is its caption, with the pointer beside it). */
function applyText(store: LocalStore, ownHandle: string, received: Received, content: TextContent | AttachmentContent): Applied {
  const text = content.type === 'text' ? content.text : content.caption ?? '';
  const attachment = content.type === 'attachment' ? { attachment: content.attachment } : {};
  const outgoing = received.senderHandle === ownHandle;
  let conversation: Conversation;
  if (content.groupId !== undefined) {
    const group = received.batch.get('groups', content.groupId);
    if (group && !outgoing && !group.members.includes(received.senderHandle)) return { events: [] };
    conversation = { kind: 'group', groupId: content.groupId };
  } else {
    const peer = outgoing ? content.to : received.senderHandle;
    if (peer === undefined) return { events: [] };
    conversation = { kind: 'direct', handle: peer };
  }
  const record: MessageRecord = {
    id: content.id, conversation, from: received.senderHandle, fromDevice: received.senderDeviceId,
    text, ...attachment, ts: content.ts, n: content.n, storedAt: Date.now(), outgoing, state: outgoing ? 'stored' : 'received',
  };
  if (store.get('messages', content.id)) return { events: [] };
  received.batch.put('messages', content.id, record);
  countReceived(received, conversation, content.n);
  const applied: Applied = {
    events: [{
      event: 'message',
      payload: { id: content.id, conversation, from: received.senderHandle, device: received.senderDeviceId, text, ...attachment, ts: content.ts, outgoing },
    }],
  };
  if (!outgoing) applied.deliveredReceipt = { handle: received.senderHandle, messageIds: [content.id] };
  return applied;
}

function applyGroup(received: Received, content: GroupContent): Applied {
  const current = received.batch.get('groups', content.groupId);
  const verdict = judgeGroupUpdate(current, content, received.senderHandle);
  if ('refused' in verdict) return { events: [] };
  const record = verdict.accepted;
  const previous = current?.members ?? [];
  received.batch.put('groups', content.groupId, record);
  const change: GroupEvent = {
    groupId: record.groupId, name: record.name, members: record.members, by: received.senderHandle,
    added: record.members.filter((m) => !previous.includes(m)),
    removed: previous.filter((m) => !record.members.includes(m)),
  };
  return { events: [{ event: 'group', payload: change }] };
}

/** How many texts below the highest one seen from a device are remembered as missing. */
const MAX_MISSING = 100;

/** Keeps, per conversation and sending device, the highest count seen and the counts still missing. */
function countReceived(received: Received, conversation: Conversation, n: number): void {
  const key = `${conversationKey(conversation)}|${received.senderDeviceId}`;
  const now = Date.now();
  const current = received.batch.get('receivedCounts', key) ?? {
    handle: received.senderHandle, deviceId: received.senderDeviceId, conversation, max: 0, missing: [],
  };
  let missing = current.missing.filter((m) => m.n !== n);
  // The first text seen from a device in a conversation starts its count: earlier ones predate us (a new device).
  if (current.max > 0) for (let k = current.max + 1; k < n; k++) missing.push({ n: k, since: now });
  missing = missing.slice(-MAX_MISSING);
  received.batch.put('receivedCounts', key, { ...current, max: Math.max(current.max, n), missing });
}

function isRecipient(conversation: Conversation, handle: string, store: LocalStore): boolean {
  if (conversation.kind === 'direct') return conversation.handle === handle;
  return store.get('groups', conversation.groupId)?.members.includes(handle) === true;
}
