/**
 * SealpostClient: one device of one account, and the SDK's public API. Owns the local store and,
 * once the device has an account, its parts (client-parts.ts: relay connection, outbox,
 * sessions, …), and runs every state-changing step (send, receive, prekey upkeep) through one
 * serial queue, so ratchet states are never used by two steps at once.
 */
import { ready, encodeRecoveryKey } from '../../crypto/index.js';
import { requireAuthority } from './account-authority.js';
import * as ownDevices from './own-devices.js';
import type { OwnDevice, OwnDevicesHost } from './own-devices.js';
import { ClientParts } from './client-parts.js';
import { acceptChangedIdentity, safetyNumberWith } from './contact-trust.js';
import type { ConnectionState } from './connection.js';
import type { ClientContext } from './context.js';
import { markVerified } from './directory.js';
import { TypedEmitter } from './emitter.js';
import { SdkError } from './errors.js';
import { MAX_TEXT_LENGTH, type AttachmentPointer, type ContentDraft } from './content.js';
import type { Emit, SealpostEvents } from './events.js';
import { Groups, type GroupChange } from './groups.js';
import { deviceSigner } from './local-identity.js';
import type { OutgoingMessage } from './outgoing.js';
import { DEFAULT_PREKEY_POLICY, type PrekeyPolicy } from './prekeys.js';
import { pruneDedupIds } from './receiver.js';
import { randomId } from './random.js';
import { RelayHttp } from './relay-http.js';
import * as registration from './registration.js';
import { LocalStore } from './store/local-store.js';
import type { Persistence } from './store/persistence.js';
import type { AccountRecord, ContactRecord, Conversation, ConversationRecord, GroupRecord, MessageRecord } from './store/records.js';
import { buildSync, knownConversations } from './sync.js';
import { nameRecord } from './device-names.js';
import { SerialQueue } from './serial-queue.js';
import { messagesOf, missingIn, notArrivedIn, type MissingMessages } from './history.js';
import { BlobHttp } from './attachment-http.js';
import { AttachmentUpload, checkPointer, downloadAttachment, type AttachmentFile, type TransferOptions } from './attachments.js';

/** How long approveLink waits for the new device to confirm (it registers, then announces itself). */
const LINK_CONFIRM_TIMEOUT_MS = 10 * 60_000;

export type { OwnDevice };

export interface ClientOptions {
  /** Where keys, sessions and messages live (FilePersistence in Node, IndexedDbPersistence in browsers). */
  persistence: Persistence;
  prekeyPolicy?: Partial<PrekeyPolicy>;
  /** First reconnect delay in ms (then doubling, capped, jittered). */
  reconnectBackoffMs?: number;
  /** The HTTP client for relay requests (default: the platform fetch); tests put a lying relay here. */
  fetch?: typeof fetch;
}

export type { OutgoingMessage };

export class SealpostClient extends TypedEmitter<SealpostEvents> {
  private readonly queue = new SerialQueue();
  private wired: ClientParts | undefined;
  private readonly groupOps: Groups;
  private readonly emitEvent: Emit = (event, payload) => this.emit(event, payload);

  private constructor(readonly store: LocalStore, private readonly options: ClientOptions) {
    super();
    this.groupOps = new Groups(store, () => this.requireAccount());
    // The authority device answers a newly linked device's announcement with the account state.
    this.on('device_linked', () => {
      if (this.account?.authority) this.background(() => this.toOwnDevices(buildSync(this.store, this.requireAccount().handle)));
    });
    this.on('device_removed', () => this.wired?.ctx.connection.stop());
    this.on('decryption_error', ({ handle }) => this.background(() => this.wire().outgoing.resendUnconfirmed(handle)));
  }

  static async open(options: ClientOptions): Promise<SealpostClient> {
    await ready();
    const store = await LocalStore.open(options.persistence);
    const account = store.get('account', 'self') as Partial<AccountRecord> | undefined;
    if (account && account.v !== 2) {
      await store.close();
      throw new SdkError('unsupported_version', 'this profile was made by Sealpost v1 and cannot be used with protocol v2: erase it and register or link again');
    }
    await pruneDedupIds(store);
    return new SealpostClient(store, options);
  }

  get account(): AccountRecord | undefined {
    return this.store.get('account', 'self');
  }
  get handle(): string | undefined {
    return this.account?.handle;
  }
  get deviceId(): string | undefined {
    return this.account?.deviceId;
  }
  get connectionState(): ConnectionState {
    return this.wired?.ctx.connection.state ?? 'offline';
  }

  /** Creates the account with this device as its first. */
  async register(relayUrl: string, handle: string): Promise<AccountRecord> {
    return registration.createAccount(this.store, this.http(relayUrl), relayUrl, handle);
  }

  /**
   * On a NEW device: returns the code to enter on the device holding the account authority;
   * `completed` resolves once this device is registered, and it then announces itself to the
   * account's devices (queued until connected), which answer with a sync.
   */
  startLink(relayUrl: string, options?: { pollMs?: number; timeoutMs?: number }): registration.PendingLink {
    const pending = registration.startLink(this.store, this.http(relayUrl), relayUrl, options);
    const completed = pending.completed.then(async (account) => {
      await this.serial(() => this.toOwnDevices([{ type: 'linked', id: randomId(), ts: Date.now() }]));
      return account;
    });
    completed.catch(() => undefined);
    return { ...pending, completed };
  }

  /**
   * On the device holding the authority: adds the device that shows `code` to the account's list
   * and resolves with its id only once that device confirmed (registered and announced itself);
   * rejects `link_timeout` (and revokes the link) if it never does.
   */
  async approveLink(code: string, options: { timeoutMs?: number } = {}): Promise<string> {
    const deviceId = await ownDevices.approveLink(this.ownDevicesHost(), code, options.timeoutMs ?? LINK_CONFIRM_TIMEOUT_MS);
    // The sync answering the confirmation was queued by the device_linked listener: let it land in the outbox.
    await this.serial(async () => undefined);
    return deviceId;
  }

  /** On a fresh profile: takes the account back with its recovery key (every other device is dropped). */
  async recover(relayUrl: string, handle: string, recoveryKey: string): Promise<AccountRecord> {
    return registration.recoverAccount(this.store, this.http(relayUrl), relayUrl, handle, recoveryKey);
  }

  /** Whether this device holds the account authority (can add and remove devices, show the recovery key). */
  get hasAuthority(): boolean {
    return this.account?.authority !== undefined;
  }

  /** The recovery key to write down: whoever has it can take over the account. Authority device only. */
  recoveryKey(): string {
    return encodeRecoveryKey(requireAuthority(this.requireAccount()));
  }

  /** Connects to the relay (and keeps reconnecting) until `close()`. */
  connect(): void {
    this.context().connection.start();
  }

  async close(): Promise<void> {
    this.wired?.stop();
    await this.queue.idle();
    await this.store.close();
  }

  /** Sends a text to `handle`'s devices and our own other devices, as one batch. */
  async send(handle: string, text: string): Promise<OutgoingMessage> {
    return this.sendText([handle], { kind: 'direct', handle }, text);
  }

  async sendToGroup(groupId: string, text: string): Promise<OutgoingMessage> {
    const group = this.groupOps.require(groupId);
    return this.sendText(this.groupOps.othersIn(group), { kind: 'group', groupId }, text);
  }

  /**
   * Encrypts and uploads a file ONCE, then sends its pointer like a text to every device of the
   * conversation and our own (docs/sdk.md "Files"). Rejects before uploading what cannot be sent
   * (`too_large` over 100 MiB); `cancelled` when `signal` aborts.
   */
  async sendFile(target: { handle: string } | { groupId: string }, file: AttachmentFile, options: TransferOptions & { caption?: string } = {}): Promise<OutgoingMessage & { attachment: AttachmentPointer }> {
    const attachment = await this.prepareUpload(file).start(options);
    return { ...(await this.sendAttachment(target, attachment, options)), attachment };
  }

  /** An upload to `start()`; after a failure or a cancel, `start()` again resumes where the relay stands. */
  prepareUpload(file: AttachmentFile): AttachmentUpload {
    const { http } = this.context();
    return new AttachmentUpload(file, (size) => http.createAttachment(size, deviceSigner(this.requireAccount())), this.blobs());
  }

  /** Sends an uploaded file's pointer (from `prepareUpload(…).start()`, or one received) with an optional caption. */
  sendAttachment(target: { handle: string } | { groupId: string }, attachment: AttachmentPointer, options: { caption?: string } = {}): Promise<OutgoingMessage> {
    const pointer = checkPointer(attachment);
    return this.serial(() => {
      const conversation: Conversation = 'handle' in target ? { kind: 'direct', handle: target.handle } : { kind: 'group', groupId: target.groupId };
      const recipients = 'handle' in target ? [target.handle] : this.groupOps.othersIn(this.groupOps.require(target.groupId));
      return this.wire().outgoing.text(recipients, conversation, options.caption ?? '', pointer);
    });
  }

  /** A received file's bytes, decrypted as they arrive; the digest is checked before the last ones are given. */
  downloadAttachment(attachment: AttachmentPointer, options: TransferOptions = {}): AsyncIterable<Uint8Array> {
    return downloadAttachment(this.blobs(), checkPointer(attachment), options);
  }

  /** Ephemeral: pushed only to devices online now that already have a session, never stored, no lookups; best effort. */
  sendTyping(target: { handle: string } | { groupId: string }, typing: boolean): Promise<void> {
    return this.serial(async () => {
      const { outgoing } = this.wire();
      const recipients = 'handle' in target ? [target.handle] : this.groupOps.othersIn(this.groupOps.require(target.groupId));
      const groupId = 'groupId' in target ? target.groupId : undefined;
      await outgoing.typing(recipients, { type: 'typing', id: randomId(), ts: Date.now(), typing, ...(groupId === undefined ? {} : { groupId }) });
    });
  }

  /** Tells `handle` these of its messages were read (an end-to-end encrypted receipt). */
  markRead(handle: string, messageIds: string[]): Promise<void> {
    return this.sendReceipt(handle, 'read', messageIds);
  }

  async createGroup(name: string, members: string[]): Promise<GroupRecord> {
    return this.publishGroup(this.groupOps.created(name, members));
  }

  async addGroupMembers(groupId: string, handles: string[]): Promise<GroupRecord> {
    return this.publishGroup(this.groupOps.withMembers(groupId, handles));
  }

  /** The removed members get this last update (so they know), and nothing after it. */
  async removeGroupMembers(groupId: string, handles: string[]): Promise<GroupRecord> {
    return this.publishGroup(this.groupOps.withoutMembers(groupId, handles));
  }

  groups(): GroupRecord[] {
    return this.groupOps.all();
  }

  /** History in the senders' order (their clock, then each device's count), one conversation or all. */
  messages(conversation?: Conversation): MessageRecord[] {
    return messagesOf(this.store, conversation);
  }

  /** Texts a contact's device sent in this conversation that never arrived here (a count it skipped). */
  missing(conversation: Conversation): MissingMessages[] {
    return missingIn(this.store, conversation);
  }

  /** Ids of our messages that may not have been delivered (still stored while a later one was delivered). */
  notArrived(conversation: Conversation): string[] {
    return notArrivedIn(this.store, conversation, this.requireAccount().deviceId);
  }

  /** Sends one of our messages again to its conversation (receivers that have it drop the copy). */
  resend(messageId: string): Promise<void> {
    return this.serial(() => {
      const message = this.store.get('messages', messageId);
      if (!message || message.fromDevice !== this.deviceId) throw new SdkError('unknown_message', `no message ${messageId} sent from this device`);
      const recipients = message.conversation.kind === 'direct' ? [message.conversation.handle] : this.groupOps.othersIn(this.groupOps.require(message.conversation.groupId));
      return this.wire().outgoing.resend(messageId, recipients);
    });
  }

  /** A fresh verified lookup: the signed device list (rollback, fork and forgery refused), the pinned identity key. */
  lookup(handle: string): Promise<ContactRecord> {
    return this.context().directory.lookup(handle);
  }

  contact(handle: string): ContactRecord | undefined {
    return this.store.get('contacts', handle);
  }

  /**
   * The 60-digit safety number with `handle`. While a key change is pending it is the NEW key's
   * number: that is the key the user is asked to accept, so that is what they must compare.
   */
  async safetyNumber(handle: string): Promise<string> {
    const account = this.requireAccount();
    return safetyNumberWith(account, handle, this.store.get('contacts', handle) ?? (await this.lookup(handle)));
  }

  /** Marks (or unmarks) `handle`'s pinned identity as verified by the user; a pending key change cannot be verified. */
  setVerified(handle: string, verified: boolean): Promise<void> {
    return this.serial(() => markVerified(this.store, handle, verified));
  }

  /** Trusts `handle`'s new identity key (after the user compared safety numbers); old sessions are dropped. */
  async acceptIdentity(handle: string): Promise<void> {
    const receipts = await this.serial(() => acceptChangedIdentity(this.store, handle, () => this.context(), this.emitEvent));
    this.wired?.receipts.add(receipts); // none unless a change was accepted, which wired the parts
  }

  /** This account's devices from its verified device list, with the names given on own devices. */
  devices(): Promise<OwnDevice[]> {
    return ownDevices.listDevices(this.ownDevicesHost());
  }

  /** Removes a device (authority device only): the next device list, without it. */
  removeDevice(deviceId: string): Promise<void> {
    return ownDevices.removeDevice(this.ownDevicesHost(), deviceId);
  }

  /** Names one of this account's devices; the name is sent (end-to-end encrypted) only to own devices. */
  setDeviceName(deviceId: string, name: string): Promise<void> {
    return this.serial(async () => {
      const record = nameRecord(this.store, this.requireAccount(), deviceId, name);
      await this.store.commit([{ collection: 'deviceNames', key: deviceId, value: record }]);
      await this.toOwnDevices(buildSync(this.store, this.requireAccount().handle, true));
    });
  }

  /** Resolves once every queued envelope was stored by the relay (or refused), or rejects after `timeoutMs`. */
  async outboxDrained(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.store.count('outbox') > 0) {
      if (Date.now() > deadline) throw new SdkError('network', 'the relay did not store every queued envelope in time');
      await this.wired?.ctx.outbox.flush();
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Every conversation this device knows, including ones synced without history. */
  conversations(): ConversationRecord[] {
    return knownConversations(this.store);
  }

  // ── internals ──────────────────────────────────────────────────────────────

  private async sendText(recipients: string[], conversation: Conversation, text: string): Promise<OutgoingMessage> {
    // Receivers drop a longer text as invalid_content: refuse it here, before it is stored as sent.
    if (text.length > MAX_TEXT_LENGTH) throw new SdkError('too_large', `a text is at most ${MAX_TEXT_LENGTH} characters; this one has ${text.length}`);
    return this.serial(() => this.wire().outgoing.text(recipients, conversation, text));
  }

  private sendReceipt(handle: string, receipt: 'delivered' | 'read', messageIds: string[]): Promise<void> {
    return this.serial(() => this.wire().outgoing.content([handle], { type: 'receipt', id: randomId(), ts: Date.now(), receipt, messageIds }, false));
  }

  /** Own-device control contents (`linked`, `sync`), to every other device of this account. Call inside serial(). */
  private async toOwnDevices(contents: ContentDraft[]): Promise<void> {
    for (const content of contents) await this.wire().outgoing.content([], content, true);
  }

  private publishGroup(change: GroupChange): Promise<GroupRecord> {
    return this.serial(() => this.groupOps.publish(this.wire().outgoing, change));
  }

  private ownDevicesHost(): OwnDevicesHost {
    return {
      store: this.store,
      account: () => this.requireAccount(),
      http: () => this.context().http,
      lookup: (handle) => this.lookup(handle),
      confirmation: (deviceId) => this.once('device_linked', (e) => e.deviceId === deviceId),
    };
  }

  private blobs(): BlobHttp {
    return new BlobHttp(this.requireAccount().relayUrl, this.options.fetch);
  }

  private http(relayUrl: string): RelayHttp {
    return this.options.fetch ? new RelayHttp(relayUrl, this.options.fetch) : new RelayHttp(relayUrl);
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    return this.queue.run(task);
  }

  private requireAccount(): AccountRecord {
    const account = this.account;
    if (!account) throw new SdkError('not_registered', 'register or link this device first');
    return account;
  }

  private context(): ClientContext {
    return this.wire().ctx;
  }

  /** The parts, built once the device has an account (after register / link / recover). */
  private wire(): ClientParts {
    this.wired ??= new ClientParts({
      store: this.store,
      http: this.http(this.requireAccount().relayUrl),
      account: () => this.requireAccount(),
      emit: this.emitEvent,
      prekeyPolicy: { ...DEFAULT_PREKEY_POLICY, ...this.options.prekeyPolicy },
      reconnectBackoffMs: this.options.reconnectBackoffMs,
      serial: (task) => this.serial(task),
      background: (task) => this.background(task),
    });
    return this.wired;
  }

  /** Runs a step in the serial queue without a caller to report to: failures become `error` events. */
  private background(task: () => Promise<unknown>): void {
    void this.serial(task).catch((error: unknown) => this.emit('error', error));
  }
}
