/**
 * The outgoing direction, one owner: every content this device sends — texts, receipts, group
 * updates, own-device control — is fanned out here, written with its envelopes and the ratchet
 * states that sealed them in ONE batch, tracked until every envelope is settled, and turned
 * into message states through message-state.ts (the one transition table).
 *
 * Why nothing is lost or sent to a device that should not get it:
 * - A content stays in `pendingContents` until none of its envelopes is left in the outbox, so
 *   a crash at any point resends the same envelopes (same ids: the relay stores an id once).
 * - The relay refuses an envelope sealed under an older device list than it holds
 *   (`stale_devices`): the recipient's list is looked up and verified again and the content is
 *   sealed again for that account's current devices (at most MAX_RESTARTS times).
 * - `unknown_device` (a device removed, or the account recovered) is answered the same way.
 * - Every problem found while fanning out (a refused or unknown device, a list we do not trust)
 *   is reported as a typed `send_problem` event; none is swallowed.
 */
import { fromBase64Url } from '../../crypto/index.js';
import type { AttachmentPointer, ContentDraft } from './content.js';
import type { ClientContext } from './context.js';
import { SdkError } from './errors.js';
import type { Emit } from './events.js';
import { applyStateEvent } from './message-state.js';
import type { OutboxResult } from './outbox.js';
import { randomId } from './random.js';
import { prepareFanout, type Fanout } from './sender.js';
import type { Conversation, MessageRecord, PendingContentRecord } from './store/records.js';
import { conversationKey } from './sync.js';
import { unconfirmedTo } from './history.js';

/** A text, or a file (`attachment`, captioned by a non-empty text): both are counted messages. */
function textDraft(m: { id: string; ts: number; n: number; text: string; conversation: Conversation; attachment?: AttachmentPointer | undefined }): ContentDraft {
  const where = m.conversation.kind === 'direct' ? { to: m.conversation.handle } : { groupId: m.conversation.groupId };
  if (m.attachment) return { type: 'attachment', id: m.id, ts: m.ts, n: m.n, attachment: m.attachment, ...(m.text ? { caption: m.text } : {}), ...where };
  return { type: 'text', id: m.id, ts: m.ts, n: m.n, text: m.text, ...where };
}

const MAX_RESTARTS = 3;
const NOTICE_INTERVAL_MS = 10 * 60_000;
/** Which of our unconfirmed messages go again after a decryption-error notice. */
const RESEND_WINDOW_MS = 7 * 24 * 3600_000;
const RESEND_LIMIT = 50;

export interface OutgoingMessage {
  id: string;
  /** Resolves once the relay durably stored it for a recipient; rejects with the reason if it refused. */
  stored: Promise<void>;
}

/** A content and how to fan it out (what PendingContentRecord keeps, before encoding). */
interface Pending {
  id: string;
  draft: ContentDraft;
  recipients: string[];
  includeOwnDevices: boolean;
  messageId?: string;
  onlyDevice?: string;
  freshSession?: boolean;
}

interface Tracking {
  reachedRecipient: boolean;
  failures: string[];
  settle?: { resolve: () => void; reject: (error: SdkError) => void };
}

export class Outgoing {
  private readonly tracking = new Map<string, Tracking>();
  /** When a decryption-error notice last went to each device. */
  private readonly noticesSent = new Map<string, number>();

  constructor(private readonly ctx: ClientContext, private readonly emit: Emit) {}

  /** A text (or a file's pointer, already uploaded) to a direct or group conversation, copied to our own other devices. */
  async text(recipients: string[], conversation: Conversation, text: string, attachment?: AttachmentPointer): Promise<OutgoingMessage> {
    const account = this.ctx.account();
    const id = randomId();
    const ts = Date.now();
    const counterKey = conversationKey(conversation);
    const n = this.ctx.store.get('sendCounts', counterKey)?.next ?? 1;
    const draft = textDraft({ id, ts, n, text, conversation, attachment });
    const pending: Pending = { id, draft, recipients, includeOwnDevices: true, messageId: id };
    const fanout = await this.fanout(pending, conversation.kind === 'direct');
    if (!fanout.envelopes.some((e) => e.toRecipient)) throw new SdkError('no_devices', 'no recipient device can be sent to');
    const record: MessageRecord = {
      id, conversation, from: account.handle, fromDevice: account.deviceId, text, ...(attachment ? { attachment } : {}), ts, n, storedAt: Date.now(), outgoing: true, state: 'sending',
    };
    fanout.batch.put('sendCounts', counterKey, { next: n + 1 });
    fanout.batch.put('messages', id, record);
    fanout.batch.put('seenMessages', `${account.handle}:${id}`, { at: ts });
    const stored = this.track(id);
    await this.queue(fanout, pending);
    this.emit('message_state', { id, state: 'sending' });
    return { id, stored };
  }

  /**
   * Sends one of our texts again, unchanged (same id, so whoever has it already drops the copy):
   * for a message that may not have arrived, or after a recipient could not decrypt it. To
   * `only` these accounts, or to all its recipients.
   */
  async resend(messageId: string, recipients: string[]): Promise<void> {
    const message = this.ctx.store.get('messages', messageId);
    if (!message?.outgoing || message.n === undefined) throw new SdkError('unknown_message', `no message ${messageId} of ours to send again`);
    if (this.ctx.store.get('pendingContents', messageId)) return; // still on its way
    const draft = textDraft({ id: message.id, ts: message.ts, n: message.n, text: message.text, conversation: message.conversation, attachment: message.attachment });
    const pending: Pending = { id: messageId, draft, recipients, includeOwnDevices: false, messageId };
    this.track(messageId);
    await this.queue(await this.fanout(pending, false), pending);
  }

  /** After a contact's device could not decrypt: this device's unconfirmed messages of the last week go again, in its new session. */
  async resendUnconfirmed(handle: string): Promise<void> {
    for (const message of unconfirmedTo(this.ctx.store, handle, this.ctx.account().deviceId, Date.now() - RESEND_WINDOW_MS, RESEND_LIMIT)) {
      await this.resend(message.id, [handle]);
    }
  }

  /**
   * Receipts, group updates and own-device control contents: queued like texts (resent after a
   * reconnect), best effort per recipient. `extra` writes go in the same batch (e.g. the group
   * record a group update describes).
   */
  async content(recipients: string[], draft: ContentDraft, includeOwnDevices: boolean, extra?: (fanout: Fanout) => void): Promise<void> {
    const pending: Pending = { id: draft.id, draft, recipients, includeOwnDevices };
    const fanout = await this.fanout(pending, false);
    extra?.(fanout);
    await this.queue(fanout, pending);
  }

  /**
   * Tells one device that we could not decrypt its message, in a NEW session (a first message it
   * can always open), so it takes that session and sends again. At most one notice per device
   * per NOTICE_INTERVAL_MS: a forger naming someone's device in a seal cannot make us spam it.
   */
  async decryptionError(handle: string, deviceId: string): Promise<void> {
    const last = this.noticesSent.get(deviceId);
    if (last !== undefined && Date.now() - last < NOTICE_INTERVAL_MS) return;
    this.noticesSent.set(deviceId, Date.now());
    const draft: ContentDraft = { type: 'decryption_error', id: randomId(), ts: Date.now() };
    const pending: Pending = { id: draft.id, draft, recipients: [handle], includeOwnDevices: false, onlyDevice: deviceId, freshSession: true };
    await this.queue(await this.fanout(pending, false), pending);
  }

  /**
   * A device we sent a notice to has been heard from again (a message decrypted): it took the
   * new session, so a later failure — a message it sent in the old one before it switched —
   * may have a notice of its own at once.
   */
  heardFrom(deviceId: string): void {
    this.noticesSent.delete(deviceId);
  }

  /** Typing: pushed only to devices that are online and already have a session; never stored, never looked up. */
  async typing(recipients: string[], draft: ContentDraft): Promise<void> {
    const fanout = await prepareFanout(this.ctx, recipients, draft, { contentId: draft.id, includeOwnDevices: false, strict: false, ephemeral: true });
    await fanout.batch.commit(); // the ratchet steps, whether or not the push goes out
    if (fanout.envelopes.length === 0 || !this.ctx.connection.connected) return;
    await this.ctx.connection.send(fanout.envelopes.map((e) => ({ to: e.to, id: e.id, body: fromBase64Url(e.body), ephemeral: true, list: e.list }))).catch(() => undefined);
  }

  /** Settles what the relay answered for a batch of envelopes (the outbox already removed them). */
  async onResult(result: OutboxResult): Promise<void> {
    const touched = new Set<string>();
    const stale = new Map<string, Set<string>>();
    for (const record of result.stored) {
      touched.add(record.contentId);
      if (record.messageId !== undefined && record.toRecipient) this.entry(record.messageId).reachedRecipient = true;
    }
    for (const { record, code } of result.failed) {
      touched.add(record.contentId);
      // A newer list, or a device the relay no longer knows (removed, or the account recovered):
      // the account changed since we cached its list. Look it up and seal again.
      if (code === 'stale_devices' || code === 'unknown_device') {
        stale.set(record.contentId, (stale.get(record.contentId) ?? new Set()).add(record.handle));
        continue;
      }
      this.emit('send_problem', { handle: record.handle, deviceId: record.to, code, ...(record.messageId ? { messageId: record.messageId } : {}) });
      if (record.messageId !== undefined && record.toRecipient) this.entry(record.messageId).failures.push(code);
    }
    for (const [contentId, handles] of stale) await this.restart(contentId, handles);
    await this.settle(touched);
  }

  // ── internals ──────────────────────────────────────────────────────────────

  private fanout(pending: Pending, strict: boolean): Promise<Fanout> {
    return prepareFanout(this.ctx, pending.recipients, pending.draft, {
      contentId: pending.id, includeOwnDevices: pending.includeOwnDevices, strict,
      ...(pending.messageId === undefined ? {} : { messageId: pending.messageId }),
      ...(pending.onlyDevice === undefined ? {} : { onlyDevice: pending.onlyDevice }),
      ...(pending.freshSession ? { freshSession: true } : {}),
      // Reported as found, so a direct send that reaches no device still says why for each one.
      onProblem: ({ handle, deviceId, error }) => {
        const code = error.details.relayCode ?? error.code;
        this.emit('send_problem', { handle, code, ...(deviceId ? { deviceId } : {}), ...(pending.messageId ? { messageId: pending.messageId } : {}) });
      },
    });
  }

  private async queue(fanout: Fanout, pending: Pending, restarts = 0): Promise<void> {
    if (fanout.envelopes.length > 0) {
      const { draft, ...rest } = pending;
      const record: PendingContentRecord = { ...rest, draft: JSON.stringify(draft), restarts };
      fanout.batch.put('pendingContents', pending.id, record);
    }
    for (const envelope of fanout.envelopes) fanout.batch.put('outbox', envelope.id, envelope);
    // In memory at once; the outbox sends nothing before it is durable, so the next send need
    // not wait for this one's disk flush (sends share flushes).
    fanout.batch.commit().catch((error: unknown) => this.emit('error', error));
    if (fanout.envelopes.length === 0 && pending.messageId !== undefined) await this.settle(new Set([pending.id]));
    void this.ctx.outbox.flush();
  }

  /** Seals a content again for the accounts whose lists were stale, after verifying their current lists. */
  private async restart(contentId: string, handles: Set<string>): Promise<void> {
    const pending = this.ctx.store.get('pendingContents', contentId);
    const messageId = pending?.messageId;
    if (!pending || pending.restarts >= MAX_RESTARTS) {
      // The relay keeps refusing what its own lookups serve: give up and say so.
      for (const handle of handles) this.emit('send_problem', { handle, code: 'stale_devices', ...(messageId ? { messageId } : {}) });
      if (messageId !== undefined) this.entry(messageId).failures.push('stale_devices');
      return;
    }
    const own = this.ctx.account().handle;
    for (const handle of handles) {
      await this.ctx.directory.lookup(handle).catch((error: unknown) => {
        this.emit('send_problem', { handle, code: error instanceof SdkError ? error.code : 'send_failed', ...(messageId ? { messageId } : {}) });
      });
    }
    const { restarts, draft: encoded, ...kept } = pending;
    const draft = JSON.parse(encoded) as ContentDraft;
    const again: Pending = { ...kept, draft, recipients: [...handles].filter((h) => h !== own), includeOwnDevices: handles.has(own) };
    const fanout = await this.fanout(again, false);
    // Keep the whole recipient set on record: other accounts' envelopes may still be in flight.
    await this.queue(fanout, { ...again, recipients: pending.recipients, includeOwnDevices: pending.includeOwnDevices }, restarts + 1);
  }

  /** Contents with no envelope left in the outbox are done: their message gets its state, the caller its answer. */
  private async settle(contentIds: Set<string>): Promise<void> {
    const outbox = this.ctx.store.all('outbox');
    const batch = this.ctx.store.batch();
    const changes = [];
    const answers: Array<() => void> = [];
    for (const contentId of contentIds) {
      if (outbox.some((e) => e.contentId === contentId)) continue;
      const messageId = this.ctx.store.get('pendingContents', contentId)?.messageId ?? (this.tracking.has(contentId) ? contentId : undefined);
      batch.delete('pendingContents', contentId);
      if (messageId === undefined) continue;
      const tracking = this.entry(messageId);
      this.tracking.delete(messageId);
      const failed = !tracking.reachedRecipient;
      const reason = tracking.failures[0] ?? 'no_devices';
      const change = applyStateEvent(batch, messageId, failed ? 'refused' : 'stored', reason);
      if (change) changes.push(change);
      const settle = tracking.settle;
      if (settle) answers.push(failed ? () => settle.reject(new SdkError('send_failed', `the relay refused the message: ${reason}`, { relayCode: reason as never })) : () => settle.resolve());
    }
    await batch.commit();
    for (const change of changes) this.emit('message_state', change);
    for (const answer of answers) answer();
  }

  /** A promise for "stored on the relay"; never an unhandled rejection if the caller ignores it. */
  private track(messageId: string): Promise<void> {
    const stored = new Promise<void>((resolve, reject) => {
      this.entry(messageId).settle = { resolve, reject };
    });
    stored.catch(() => undefined);
    return stored;
  }

  private entry(messageId: string): Tracking {
    let tracking = this.tracking.get(messageId);
    if (!tracking) this.tracking.set(messageId, (tracking = { reachedRecipient: false, failures: [] }));
    return tracking;
  }
}
