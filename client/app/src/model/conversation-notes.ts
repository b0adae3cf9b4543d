/**
 * The notes the app writes into conversations (kept in AppMemory, shown in the timeline, never
 * sent): group changes, a contact linking or removing devices, a contact's device that could
 * not read a message, and what the user did to a group here.
 */
import type { Conversation, SealpostClient } from '../../../sdk/index.js';
import type { AppMemory } from './app-memory.js';
import { conversationKey } from './conversation-key.js';
import { localId } from './local-id.js';

/** A decryption-error note is not repeated in a conversation within this time. */
const DECRYPTION_NOTE_INTERVAL_MS = 10 * 60_000;

export class ConversationNotes {
  constructor(private readonly client: SealpostClient, private readonly memory: AppMemory, private readonly changed: () => void) {}

  /** Wires the SDK events that write a note (once, on start). */
  listen(): void {
    this.client.on('group', (event) => {
      const me = this.client.handle;
      const who = (h: string) => (h === me ? 'you' : h);
      const parts: string[] = [];
      const added = event.added.filter((h) => h !== event.by);
      const by = event.by === me ? 'You' : event.by;
      // The first update this device sees of a group (it was just created, or we were added).
      if (event.added.includes(event.by)) parts.push(`${by} added ${who(me ?? '')} to “${event.name}” (members: ${event.members.join(', ')})`);
      else if (added.length > 0) parts.push(`${by} added ${added.map(who).join(', ')}`);
      if (event.removed.length > 0) parts.push(`${by} removed ${event.removed.map(who).join(', ')}`);
      if (parts.length > 0) this.add({ kind: 'group', groupId: event.groupId }, parts.join('; '));
      this.changed();
    });
    this.client.on('devices_changed', (change) => {
      // As Signal and WhatsApp do: a contact's device set changing is shown where you talk to them.
      if (!change.own) {
        const parts: string[] = [];
        if (change.added.length > 0) parts.push(`${change.handle} linked ${change.added.length === 1 ? 'a new device' : `${change.added.length} new devices`}`);
        if (change.removed.length > 0) parts.push(`${change.handle} removed ${change.removed.length === 1 ? 'a device' : `${change.removed.length} devices`}`);
        this.add({ kind: 'direct', handle: change.handle }, parts.join('; '));
      }
      this.changed();
    });
    this.client.on('decryption_error', ({ handle }) => this.onDecryptionError(handle));
  }

  add(conversation: Conversation, text: string): void {
    this.memory.addNote({ id: localId(), conversation: conversationKey(conversation), ts: Date.now(), text });
  }

  /** A contact's device could not read what we sent; the SDK already sent it again in a new session. */
  private onDecryptionError(handle: string): void {
    if (handle === this.client.handle) return; // one of our own devices: nothing to show in a conversation
    const key = conversationKey({ kind: 'direct', handle });
    const text = `${handle}’s device could not read a message; it was sent again`;
    const recent = this.memory.notes(key).some((note) => note.text === text && Date.now() - note.ts < DECRYPTION_NOTE_INTERVAL_MS);
    if (recent) return;
    this.add({ kind: 'direct', handle }, text);
    this.changed();
  }
}
