/**
 * The app's state around one SealpostClient: it listens to the SDK's events, keeps what the
 * SDK does not (typing, unread markers, unsent drafts; notes and notices in their own modules)
 * and tells the views to redraw. Views read from it and call its actions; they never talk to
 * the SDK directly.
 */
import {
  SealpostClient, type ConnectionState, type Conversation, type GroupRecord,
  type MessageEvent, type PendingLink,
} from '../../../sdk/index.js';
import { AppMemory } from './app-memory.js';
import { Attachments } from './attachments.js';
import { conversationKey } from './conversation-key.js';
import { ConversationNotes } from './conversation-notes.js';
import { summarize, titleOf, type ConversationSummary } from './conversation-summaries.js';
import { describeError } from './describe-error.js';
import { FailedSends, type FailedItem } from './failed-sends.js';
import { FencedPersistence } from './fenced-persistence.js';
import { GapRedraws } from './gap-redraws.js';
import { lookupHandle } from './handle-input.js';
import { DATABASE_NAME, eraseLocalData } from './local-data.js';
import { readHandover } from './handover.js';
import { Notices } from './notices.js';
import { showMessageNotification } from './notifications.js';
import { LINK_CODE_LIFETIME_MS, OwnDevices } from './own-devices.js';
import { buildTimeline, type TimelineItem, type UnsentMessage } from './timeline.js';
import { SendProblems, type ProblemNotice } from './send-problems.js';
import { TypingTracker } from './typing-tracker.js';

/** How long a tab losing the profile lets its sends under way settle before handing over. */
const SETTLE_MS = 1_500;

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

  /** This account's devices, names, recovery key and link approvals. */
  readonly devices: OwnDevices;
  /** Files being sent from this tab, and downloads. */
  readonly attachments: Attachments;
  /** Sends that failed (Retry, Delete) and sends that wait for the relay. */
  private readonly failed: FailedSends;
  /** Group changes, contacts' device changes and decryption errors, written into conversations. */
  private readonly notes: ConversationNotes;
  /** Problems that belong to no form and no message, one at a time. */
  private readonly notices: Notices;

  private constructor(
    readonly client: SealpostClient,
    readonly memory: AppMemory,
    readonly relayUrl: string,
    private readonly persistence: FencedPersistence,
  ) {
    this.devices = new OwnDevices(client, memory, () => this.changed());
    this.attachments = new Attachments(client, () => this.changed());
    this.failed = new FailedSends(client);
    this.notes = new ConversationNotes(client, memory, () => this.changed());
    this.notices = new Notices(client, () => this.changed());
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
    this.notes.listen();
    this.notices.listen();
    client.on('message', (event) => this.onMessage(event));
    client.on('typing', (event) => {
      const conversation: Conversation = event.groupId ? { kind: 'group', groupId: event.groupId } : { kind: 'direct', handle: event.from };
      this.typing.remoteTyping(conversationKey(conversation), event.from, event.typing);
    });
    client.on('state', ({ state, reason }) => {
      this.connection = state;
      this.connectionReason = state === 'connected' ? undefined : reason;
      this.notices.connectionChanged(state, reason);
      if (state === 'connected') {
        this.everConnected = true;
        this.retryUnsentAfterReconnect();
      }
      this.changed();
    });
    for (const event of ['message_state', 'receipt', 'identity_changed', 'device_names', 'device_linked', 'synced'] as const) {
      client.on(event, () => this.changed());
    }
    client.on('send_problem', (problem) => {
      if (this.sendProblems.add(problem, this.handle)) this.changed();
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
      this.notices.show(describeError(error));
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
    this.notes.add(conversation, `You created “${name}” with ${others.join(', ')}`);
    this.changed();
    return conversation;
  }

  async addMember(groupId: string, handle: string): Promise<void> {
    await lookupHandle(this.client, handle);
    await this.client.addGroupMembers(groupId, [handle]);
    this.notes.add({ kind: 'group', groupId }, `You added ${handle}`);
    this.changed();
  }

  async removeMember(groupId: string, handle: string): Promise<void> {
    await this.client.removeGroupMembers(groupId, [handle]);
    this.notes.add({ kind: 'group', groupId }, handle === this.handle ? 'You left the group' : `You removed ${handle}`);
    this.changed();
  }

  // ── devices ────────────────────────────────────────────────────────────────

  /** Forgets this device: keys, sessions, history and app memory. The account lives on elsewhere. */
  async eraseThisDevice(): Promise<void> {
    await this.client.close();
    await eraseLocalData();
  }

  /** The last problem worth telling the user about (shown until dismissed). */
  get notice(): string | undefined {
    return this.notices.current;
  }

  dismissNotice(): void {
    this.notices.dismiss();
  }
}
