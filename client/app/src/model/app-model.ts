/**
 * The app's state around one SealpostClient: it listens to the SDK's events, keeps what the
 * SDK does not (typing, unread markers, unsent drafts, notes) and tells the views to redraw.
 * Views read from it and call its actions; they never talk to the SDK directly.
 */
import {
  SealpostClient, SdkError, type ConnectionState, type Conversation, type GroupRecord,
  type MessageEvent, type PendingLink,
} from '../../../sdk/index.js';
import { AppMemory } from './app-memory.js';
import { Attachments } from './attachments.js';
import { conversationKey } from './conversation-key.js';
import { summarize, titleOf, type ConversationSummary } from './conversation-summaries.js';
import { describeDeviceRefusal, describeError, describeListRefusal, describeRejection } from './describe-error.js';
import { FailedSends, type FailedItem } from './failed-sends.js';
import { FencedPersistence } from './fenced-persistence.js';
import { GapRedraws } from './gap-redraws.js';
import { lookupHandle } from './handle-input.js';
import { readHandover } from './handover.js';
import { eraseNotificationPrefs, showMessageNotification } from './notifications.js';
import { LINK_CODE_LIFETIME_MS, OwnDevices } from './own-devices.js';
import { buildTimeline, type TimelineItem, type UnsentMessage } from './timeline.js';
import { SendProblems, type ProblemNotice } from './send-problems.js';
import { TypingTracker } from './typing-tracker.js';

const DATABASE_NAME = 'sealpost';
/** How long a tab losing the profile lets its sends under way settle before handing over. */
const SETTLE_MS = 1_500;

/** A decryption-error note is not repeated in a conversation within this time. */
const DECRYPTION_NOTE_INTERVAL_MS = 10 * 60_000;

/** Incoming envelopes that were dropped: worth telling the user. */
const SHOWN_REJECTIONS = new Set(['decrypt_failed', 'untrusted_sender', 'invalid_content']);

/**
 * Deletes this browser's Sealpost data (the SDK's database and the app's memory) and starts
 * over. Also used when the profile cannot be opened at all (one made by protocol v1).
 */
export async function eraseLocalData(): Promise<void> {
  new AppMemory().erase();
  eraseNotificationPrefs();
  await new Promise<void>((resolve) => {
    const request = indexedDB.deleteDatabase(DATABASE_NAME);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
  location.reload();
}

function localId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export class AppModel {
  private readonly listeners = new Set<() => void>();
  private readonly typing = new TypingTracker(() => this.changed());
  private readonly sendProblems = new SendProblems();
  /** Our messages the user sent again (shown as such until they are delivered). */
  private readonly resent = new Set<string>();
  private readonly gapRedraws = new GapRedraws(() => this.changed());
  /** Sends under way (awaited, briefly, when another tab takes the profile). */
  private readonly sending = new Set<Promise<void>>();
  private active: Conversation | undefined;
  private started = false;
  private shutDownStarted = false;
  private readonly onVisibility = () => this.markSeen();
  connection: ConnectionState = 'offline';
  /** Whether this tab was ever connected: before that the status says "Connecting…", not "Reconnecting…". */
  everConnected = false;
  /** Why the connection is not up (the relay's refusal code or the transport's reason), if known. */
  connectionReason: string | undefined;
  /** The last problem worth telling the user about (shown until dismissed). */
  notice: string | undefined;
  private noticeClearsOnReconnect = false;

  /** This account's devices, names, recovery key and link approvals. */
  readonly devices: OwnDevices;
  /** Files being sent from this tab, and downloads. */
  readonly attachments: Attachments;
  /** Sends that failed (Retry, Delete) and sends that wait for the relay. */
  private readonly failed: FailedSends;

  private constructor(
    readonly client: SealpostClient,
    readonly memory: AppMemory,
    readonly relayUrl: string,
    private readonly persistence: FencedPersistence,
  ) {
    this.devices = new OwnDevices(client, memory, () => this.changed());
    this.attachments = new Attachments(client, () => this.changed());
    this.failed = new FailedSends(client);
  }

  /**
   * Opens the profile: only while this tab holds the profile lock (see profile-lock.ts).
   * `handedOver`: sends the tab that had the profile before could not queue (kept in its memory).
   */
  static async open(relayUrl: string, handedOver: unknown = undefined): Promise<AppModel> {
    const persistence = new FencedPersistence(DATABASE_NAME);
    const client = await SealpostClient.open({ persistence, reconnectBackoffMs: 500 });
    const model = new AppModel(client, new AppMemory(), relayUrl, persistence);
    model.failed.restore(readHandover(handedOver));
    if (client.account) model.start();
    return model;
  }

  /** Whether this tab let go of the profile (another tab took it). */
  get isShutDown(): boolean {
    return this.shutDownStarted;
  }

  /**
   * Another tab took the profile: from this call on nothing is written (the fence) or sent (the
   * connection and the outbox stop inside client.close() before its first await). Sends still
   * under way settle (briefly: their writes now fail), then `stopped` gets what this tab holds
   * only in memory — sends the SDK never queued — for the new tab to send.
   */
  async shutDown(stopped: (handover: UnsentMessage[]) => void = () => undefined): Promise<void> {
    if (this.shutDownStarted) return;
    this.shutDownStarted = true;
    this.persistence.fence();
    this.gapRedraws.stop();
    document.removeEventListener('visibilitychange', this.onVisibility);
    const closing = this.client.close().catch(() => undefined);
    await Promise.race([Promise.allSettled([...this.sending]), new Promise((resolve) => setTimeout(resolve, SETTLE_MS))]);
    stopped(this.failed.all());
    await closing;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  get handle(): string | undefined {
    return this.client.handle;
  }

  // ── first run ──────────────────────────────────────────────────────────────

  async register(handle: string): Promise<void> {
    await this.client.register(this.relayUrl, handle);
    this.start();
    void this.devices.nameThisDevice();
  }

  /** On a new device: a link code, good for LINK_CODE_LIFETIME_MS. */
  beginLink(): PendingLink {
    return this.client.startLink(this.relayUrl, { pollMs: 1000, timeoutMs: LINK_CODE_LIFETIME_MS });
  }

  /** `name`: what the user chose to call this device while the code was shown (read once linked). */
  async finishLink(pending: PendingLink, name?: () => string): Promise<void> {
    await pending.completed;
    this.start();
    void this.devices.nameThisDevice(name?.());
  }

  /** On a fresh profile: takes the account back with its recovery key (its other devices are dropped). */
  async recover(handle: string, recoveryKey: string): Promise<void> {
    await this.client.recover(this.relayUrl, handle, recoveryKey);
    // They just typed it in, so they have it written down.
    this.memory.markRecoveryKeySeen();
    this.start();
    void this.devices.nameThisDevice();
  }

  /** Wires the SDK's events and connects; once, after the device has an account. */
  private start(): void {
    if (this.started) return;
    this.started = true;
    const client = this.client;
    this.devices.listen();
    client.on('message', (event) => this.onMessage(event));
    client.on('typing', (event) => {
      const conversation: Conversation = event.groupId ? { kind: 'group', groupId: event.groupId } : { kind: 'direct', handle: event.from };
      this.typing.remoteTyping(conversationKey(conversation), event.from, event.typing);
    });
    client.on('state', ({ state, reason }) => {
      this.connection = state;
      this.connectionReason = state === 'connected' ? undefined : reason;
      if (state === 'connected') {
        this.everConnected = true;
        if (this.noticeClearsOnReconnect) this.notice = undefined;
        this.retryUnsentAfterReconnect();
      }
      if (state === 'offline' && reason === 'unsupported_version') {
        this.setNotice('The relay speaks a different Sealpost protocol version than this app, so it stopped connecting. Reload the page; if this stays, the relay needs an update.');
      }
      if (state === 'offline' && reason === 'unknown_device') {
        this.setNotice('The relay no longer knows this device: it was removed from the account. Erase it under Devices to start again.');
      }
      this.changed();
    });
    client.on('group', (event) => {
      const me = this.handle;
      const who = (h: string) => (h === me ? 'you' : h);
      const parts: string[] = [];
      const added = event.added.filter((h) => h !== event.by);
      const by = event.by === me ? 'You' : event.by;
      // The first update this device sees of a group (it was just created, or we were added).
      if (event.added.includes(event.by)) parts.push(`${by} added ${who(me ?? '')} to “${event.name}” (members: ${event.members.join(', ')})`);
      else if (added.length > 0) parts.push(`${by} added ${added.map(who).join(', ')}`);
      if (event.removed.length > 0) parts.push(`${by} removed ${event.removed.map(who).join(', ')}`);
      if (parts.length > 0) this.addNote({ kind: 'group', groupId: event.groupId }, parts.join('; '));
      this.changed();
    });
    for (const event of ['message_state', 'receipt', 'identity_changed', 'device_names', 'device_linked', 'synced'] as const) {
      client.on(event, () => this.changed());
    }
    client.on('devices_changed', (change) => {
      // As Signal and WhatsApp do: a contact's device set changing is shown where you talk to them.
      if (!change.own) {
        const parts: string[] = [];
        if (change.added.length > 0) parts.push(`${change.handle} linked ${change.added.length === 1 ? 'a new device' : `${change.added.length} new devices`}`);
        if (change.removed.length > 0) parts.push(`${change.handle} removed ${change.removed.length === 1 ? 'a device' : `${change.removed.length} devices`}`);
        this.addNote({ kind: 'direct', handle: change.handle }, parts.join('; '));
      }
      this.changed();
    });
    client.on('device_refused', (refusal) => {
      this.setNotice(describeDeviceRefusal(refusal.handle, refusal.reason));
    });
    client.on('device_list_refused', (refusal) => {
      this.setNotice(describeListRefusal(refusal.handle, refusal.reason));
    });
    client.on('device_list_mismatch', (mismatch) => {
      const whose = mismatch.kind === 'sender' ? `${mismatch.handle}'s devices` : 'your devices';
      this.setNotice(`${mismatch.from}'s message was sent with a different list of ${whose} than the relay shows you. The relay may be showing different people different devices.`);
    });
    client.on('device_removed', () => {
      this.setNotice('This device was removed from your account. It can no longer send or read new messages. Erase it under Devices to start again.');
    });
    client.on('send_problem', (problem) => {
      if (this.sendProblems.add(problem, this.handle)) this.changed();
    });
    client.on('decryption_error', ({ handle }) => this.onDecryptionError(handle));
    client.on('rejected', (error) => {
      if (!SHOWN_REJECTIONS.has(error.code)) return; // send refusals already show on their message
      this.setNotice(describeRejection(error.code));
    });
    client.on('error', (error) => {
      this.setNotice(describeError(error), error instanceof SdkError && error.code === 'network');
    });
    document.addEventListener('visibilitychange', this.onVisibility);
    client.connect();
    this.connection = client.connectionState;
    this.gapRedraws.afterArrival();
    this.changed();
  }

  private onMessage(event: MessageEvent): void {
    const key = conversationKey(event.conversation);
    this.typing.remoteSent(key, event.from);
    if (!event.outgoing) showMessageNotification(titleOf(event.conversation, this.client.groups()), event.from, event.text || (event.attachment ? `File: ${event.attachment.fileName}` : ''), key);
    this.markSeen();
    this.gapRedraws.afterArrival();
    this.changed();
  }

  /** A contact's device could not read what we sent; the SDK already sent it again in a new session. */
  private onDecryptionError(handle: string): void {
    if (handle === this.handle) return; // one of our own devices: nothing to show in a conversation
    const key = conversationKey({ kind: 'direct', handle });
    const text = `${handle}’s device could not read a message; it was sent again`;
    const recent = this.memory.notes(key).some((note) => note.text === text && Date.now() - note.ts < DECRYPTION_NOTE_INTERVAL_MS);
    if (recent) return;
    this.addNote({ kind: 'direct', handle }, text);
    this.changed();
  }

  // ── conversations ──────────────────────────────────────────────────────────

  conversations(): ConversationSummary[] {
    return summarize(this.client.messages(), this.client.groups(), this.memory, this.client.conversations());
  }

  title(conversation: Conversation): string {
    return titleOf(conversation, this.client.groups());
  }

  group(groupId: string): GroupRecord | undefined {
    return this.client.groups().find((g) => g.groupId === groupId);
  }

  timeline(conversation: Conversation): TimelineItem[] {
    return buildTimeline({
      messages: this.client.messages(conversation),
      notes: this.memory.notes(conversationKey(conversation)),
      unsent: this.failed.in(conversation),
      missing: this.client.missing(conversation),
      notArrived: this.client.notArrived(conversation),
    });
  }

  /** Whether the user already sent this message again (it still waits to be delivered). */
  wasResent(messageId: string): boolean {
    return this.resent.has(messageId);
  }

  /** Sends one of our messages that may not have been delivered again, unchanged (receivers drop copies). */
  async resend(messageId: string): Promise<void> {
    if (this.shutDownStarted) return;
    try {
      await this.client.resend(messageId);
      this.resent.add(messageId);
    } catch (error) {
      this.setNotice(describeError(error));
    }
    this.changed();
  }

  /** Send problems to show (one per recipient and code). */
  problems(): ProblemNotice[] {
    return this.sendProblems.list();
  }

  dismissProblem(key: string): void {
    this.sendProblems.dismiss(key);
    this.changed();
  }

  typingIn(conversation: Conversation): string[] {
    return this.typing.typingIn(conversationKey(conversation));
  }

  /** Checks that the handle exists (a verified lookup) and lists the conversation. */
  async startConversation(handle: string): Promise<Conversation> {
    await lookupHandle(this.client, handle);
    const conversation: Conversation = { kind: 'direct', handle };
    this.memory.markStarted(conversationKey(conversation));
    this.changed();
    return conversation;
  }

  /** The conversation on screen: its incoming messages count as read while the page is visible. */
  setActive(conversation: Conversation | undefined): void {
    this.active = conversation;
    this.markSeen();
  }

  private markSeen(): void {
    const conversation = this.active;
    if (!conversation || this.shutDownStarted || document.visibilityState !== 'visible') return;
    const key = conversationKey(conversation);
    const readUpTo = this.memory.readUpTo(key);
    const fresh = this.client.messages(conversation).filter((m) => !m.outgoing && m.storedAt > readUpTo);
    if (fresh.length === 0) return;
    this.memory.markReadUpTo(key, Math.max(...fresh.map((m) => m.storedAt)));
    const bySender = new Map<string, string[]>();
    for (const message of fresh) bySender.set(message.from, [...(bySender.get(message.from) ?? []), message.id]);
    for (const [from, ids] of bySender) void this.client.markRead(from, ids).catch(() => undefined);
    this.changed();
  }

  async send(conversation: Conversation, text: string): Promise<void> {
    if (this.shutDownStarted) return;
    const sending = this.sendNow(conversation, text);
    this.sending.add(sending);
    await sending.finally(() => this.sending.delete(sending));
  }

  private async sendNow(conversation: Conversation, text: string): Promise<void> {
    this.stopTyping(conversation);
    try {
      if (conversation.kind === 'direct') await this.client.send(conversation.handle, text);
      else await this.client.sendToGroup(conversation.groupId, text);
      this.memory.markStarted(conversationKey(conversation));
    } catch (error) {
      // Cut off because another tab took the profile: that tab sends it (see shutDown).
      this.failed.add(conversation, text, error, this.shutDownStarted);
    }
    this.changed();
  }

  /** Sends a failed message again as a new message and drops the failed copy. */
  async retry(item: FailedItem): Promise<void> {
    const again = await this.failed.takeForRetry(item);
    if (again) await this.send(again.conversation, again.text);
  }

  /** Drops a failed message (from history, or a send that never got queued) without sending it. */
  async discardFailed(item: FailedItem): Promise<void> {
    await this.failed.discard(item);
    this.changed();
  }

  /** Sends that failed only because the relay was unreachable go out again, in their order. */
  private retryUnsentAfterReconnect(): void {
    const waiting = this.failed.takeWaitingForReconnect();
    if (waiting.length === 0) return;
    void (async () => {
      for (const unsent of waiting) await this.send(unsent.conversation, unsent.text);
    })();
  }

  userTyping(conversation: Conversation): void {
    this.typing.localKeystroke(conversationKey(conversation), (typing) => this.sendTyping(conversation, typing));
  }

  private stopTyping(conversation: Conversation): void {
    this.typing.localStopped(conversationKey(conversation), (typing) => this.sendTyping(conversation, typing));
  }

  private sendTyping(conversation: Conversation, typing: boolean): void {
    const target = conversation.kind === 'direct' ? { handle: conversation.handle } : { groupId: conversation.groupId };
    if (this.connection !== 'connected' || this.shutDownStarted) return;
    void this.client.sendTyping(target, typing).catch(() => undefined);
  }

  // ── groups ─────────────────────────────────────────────────────────────────

  async createGroup(name: string, members: string[]): Promise<Conversation> {
    for (const member of members) await lookupHandle(this.client, member);
    const group = await this.client.createGroup(name, members);
    const conversation: Conversation = { kind: 'group', groupId: group.groupId };
    const others = group.members.filter((m) => m !== this.handle);
    this.addNote(conversation, `You created “${name}” with ${others.join(', ')}`);
    this.changed();
    return conversation;
  }

  async addMember(groupId: string, handle: string): Promise<void> {
    await lookupHandle(this.client, handle);
    await this.client.addGroupMembers(groupId, [handle]);
    this.addNote({ kind: 'group', groupId }, `You added ${handle}`);
    this.changed();
  }

  async removeMember(groupId: string, handle: string): Promise<void> {
    await this.client.removeGroupMembers(groupId, [handle]);
    this.addNote({ kind: 'group', groupId }, handle === this.handle ? 'You left the group' : `You removed ${handle}`);
    this.changed();
  }

  private addNote(conversation: Conversation, text: string): void {
    this.memory.addNote({ id: localId(), conversation: conversationKey(conversation), ts: Date.now(), text });
  }

  // ── devices ────────────────────────────────────────────────────────────────

  /** Forgets this device: keys, sessions, history and app memory. The account lives on elsewhere. */
  async eraseThisDevice(): Promise<void> {
    await this.client.close();
    await eraseLocalData();
  }

  private setNotice(text: string, clearsOnReconnect = false): void {
    this.notice = text;
    this.noticeClearsOnReconnect = clearsOnReconnect;
    this.changed();
  }

  dismissNotice(): void {
    this.notice = undefined;
    this.changed();
  }
}
