/**
 * SealpostClient: one device of one account. Owns the local store, the relay connection, the
 * outbox and the sessions, and runs every state-changing step (send, receive, prekey upkeep)
 * through one serial queue, so ratchet states are never used by two steps at once.
 */
import { ready, safetyNumber, fromBase64Url, type LocalIdentity } from '../../crypto/index.js';
import type { DeliveredEnvelope } from '../../server/protocol/events.js';
import { RelayConnection, type ConnectionState } from './connection.js';
import type { ContentDraft } from './content.js';
import type { ClientContext } from './context.js';
import { DeliveryTracker } from './delivery-tracker.js';
import { Directory } from './directory.js';
import { TypedEmitter } from './emitter.js';
import { SdkError } from './errors.js';
import type { SealpostEvents } from './events.js';
import { localIdentityOf } from './local-identity.js';
import { Outbox, type OutboxResult } from './outbox.js';
import { PrekeyKeeper } from './prekey-keeper.js';
import { DEFAULT_PREKEY_POLICY, type PrekeyPolicy } from './prekeys.js';
import { receiveBatch, releaseHeld, type Receipts } from './inbound.js';
import { RelayHttp } from './relay-http.js';
import { randomId } from './random.js';
import * as registration from './registration.js';
import { prepareFanout, type FanoutOptions } from './sender.js';
import { Sessions } from './sessions.js';
import { LocalStore } from './store/local-store.js';
import type { Persistence } from './store/persistence.js';
import type { AccountRecord, ContactRecord, Conversation, GroupRecord, MessageRecord } from './store/records.js';

export interface ClientOptions {
  /** Where keys, sessions and messages live (FilePersistence in Node, IndexedDbPersistence in browsers). */
  persistence: Persistence;
  prekeyPolicy?: Partial<PrekeyPolicy>;
  /** First reconnect delay in ms (then doubling, capped, jittered). */
  reconnectBackoffMs?: number;
}

export interface OutgoingMessage {
  id: string;
  /** Resolves once the relay durably stored it for the recipient; rejects with the reason if it refused. */
  stored: Promise<void>;
}

export class SealpostClient extends TypedEmitter<SealpostEvents> {
  private tail: Promise<unknown> = Promise.resolve();
  private wired: { ctx: ClientContext; tracker: DeliveryTracker; prekeys: PrekeyKeeper } | undefined;

  private constructor(readonly store: LocalStore, private readonly options: ClientOptions) {
    super();
  }

  static async open(options: ClientOptions): Promise<SealpostClient> {
    await ready();
    const store = await LocalStore.open(options.persistence);
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
    return registration.createAccount(this.store, new RelayHttp(relayUrl), relayUrl, handle);
  }

  /** On a NEW device: returns the code to enter on an existing device; `completed` resolves once linked. */
  startLink(relayUrl: string, options?: { pollMs?: number; timeoutMs?: number }): registration.PendingLink {
    return registration.startLink(this.store, new RelayHttp(relayUrl), relayUrl, options);
  }

  /** On an EXISTING device: approves the new device that shows `code`. Returns its device id. */
  async acceptLink(code: string): Promise<string> {
    const deviceId = await registration.acceptLink(this.requireAccount(), this.context().http, code);
    this.emit('devices', { deviceIds: [deviceId] });
    return deviceId;
  }

  /** Connects to the relay (and keeps reconnecting) until `close()`. */
  connect(): void {
    this.context().connection.start();
  }

  async close(): Promise<void> {
    if (this.wired) {
      this.wired.ctx.connection.stop();
      this.wired.ctx.outbox.stop();
      this.wired.prekeys.stop();
    }
    await this.tail.catch(() => undefined);
    await this.store.close();
  }

  /** Sends a text to `handle`'s devices and our own other devices, as one batch. */
  async send(handle: string, text: string): Promise<OutgoingMessage> {
    return this.sendText([handle], { kind: 'direct', handle }, text);
  }

  async sendToGroup(groupId: string, text: string): Promise<OutgoingMessage> {
    const group = this.requireGroup(groupId);
    return this.sendText(this.othersIn(group), { kind: 'group', groupId }, text);
  }

  /** Ephemeral: pushed only to devices online now, never stored; best effort. */
  sendTyping(target: { handle: string } | { groupId: string }, typing: boolean): Promise<void> {
    return this.serial(async () => {
      const { ctx } = this.wire();
      const recipients = 'handle' in target ? [target.handle] : this.othersIn(this.requireGroup(target.groupId));
      const content: ContentDraft = { type: 'typing', id: randomId(), ts: Date.now(), typing, ...('groupId' in target ? { groupId: target.groupId } : {}) };
      const fanout = await prepareFanout(ctx, recipients, content, { includeOwnDevices: false, strict: false, existingSessionsOnly: true });
      await fanout.batch.commit();
      if (fanout.envelopes.length === 0 || !ctx.connection.connected) return;
      await ctx.connection.send(fanout.envelopes.map((e) => ({ to: e.to, id: e.id, body: fromBase64Url(e.body), ephemeral: true }))).catch(() => undefined);
    });
  }

  /** Tells `handle` these of its messages were read (an end-to-end encrypted receipt). */
  markRead(handle: string, messageIds: string[]): Promise<void> {
    return this.sendReceipt(handle, 'read', messageIds);
  }

  async createGroup(name: string, members: string[]): Promise<GroupRecord> {
    const group: GroupRecord = { groupId: randomId(), name, members: [...new Set([this.requireAccount().handle, ...members])], updatedAt: Date.now() };
    await this.publishGroup(group, group.members);
    return group;
  }

  async addGroupMembers(groupId: string, handles: string[]): Promise<GroupRecord> {
    const group = this.requireGroup(groupId);
    const next = { ...group, members: [...new Set([...group.members, ...handles])], updatedAt: Date.now() };
    return this.publishGroup(next, next.members);
  }

  /** The removed members get this last update (so they know), and nothing after it. */
  async removeGroupMembers(groupId: string, handles: string[]): Promise<GroupRecord> {
    const group = this.requireGroup(groupId);
    const next = { ...group, members: group.members.filter((m) => !handles.includes(m)), updatedAt: Date.now() };
    return this.publishGroup(next, group.members);
  }

  groups(): GroupRecord[] {
    return this.store.all('groups');
  }

  /** History, oldest first; one conversation or all. */
  messages(conversation?: Conversation): MessageRecord[] {
    const same = (c: Conversation) =>
      !conversation || (c.kind === 'direct' ? conversation.kind === 'direct' && c.handle === conversation.handle : conversation.kind === 'group' && c.groupId === conversation.groupId);
    return this.store.all('messages').filter((m) => same(m.conversation)).sort((a, b) => a.storedAt - b.storedAt);
  }

  /** A verified lookup (certificates, signed prekeys, pinned identity key). */
  lookup(handle: string): Promise<ContactRecord> {
    return this.context().directory.lookup(handle);
  }

  contact(handle: string): ContactRecord | undefined {
    return this.store.get('contacts', handle);
  }

  /** The 60-digit safety number with `handle` (from the pinned key, looked up first if none). */
  async safetyNumber(handle: string): Promise<string> {
    const account = this.requireAccount();
    const contact = this.store.get('contacts', handle) ?? (await this.lookup(handle));
    return safetyNumber(
      { handle: account.handle, identityKey: fromBase64Url(account.identity.publicKey) },
      { handle, identityKey: fromBase64Url(contact.identityKey) },
    );
  }

  /** Marks (or unmarks) `handle`'s pinned identity as verified by the user; a pending key change cannot be verified. */
  setVerified(handle: string, verified: boolean): Promise<void> {
    return this.serial(async () => {
      const contact = this.store.get('contacts', handle);
      if (!contact) throw new SdkError('unknown_contact', `no contact ${handle}; look it up first`, { handle });
      if (contact.changedIdentityKey) throw new SdkError('identity_changed', `${handle}'s identity key changed; accept or refuse it first`, { handle });
      const { verified: _previous, ...rest } = contact;
      await this.store.commit([{ collection: 'contacts', key: handle, value: verified ? { ...rest, verified: true } : rest }]);
    });
  }

  /** Trusts `handle`'s new identity key (after the user compared safety numbers); old sessions are dropped. */
  async acceptIdentity(handle: string): Promise<void> {
    const receipts = await this.serial(async () => {
      const contact = this.store.get('contacts', handle);
      if (!contact?.changedIdentityKey) return new Map<string, string[]>();
      const { ctx } = this.wire();
      const batch = this.store.batch();
      batch.put('contacts', handle, { ...contact, identityKey: contact.changedIdentityKey, changedIdentityKey: undefined, verified: false } as ContactRecord);
      ctx.sessions.forget(batch, this.store.all('sessions').filter((s) => s.handle === handle).map((s) => s.deviceId));
      await batch.commit();
      // What arrived under the new key while it was unaccepted is shown now, not lost.
      return releaseHeld(ctx, handle, (event, payload) => this.emit(event, payload));
    });
    this.sendReceipts(receipts);
  }

  /** This account's devices, verified like any contact's. */
  async devices(): Promise<Array<{ deviceId: string; createdAt: number; current: boolean }>> {
    const self = await this.lookup(this.requireAccount().handle);
    return self.devices.map((d) => ({ ...d, current: d.deviceId === this.deviceId }));
  }

  async removeDevice(deviceId: string): Promise<void> {
    const account = this.requireAccount();
    const { ctx } = this.wire();
    await ctx.http.removeDevice(account.handle, deviceId, localSigners(localIdentityOf(account)));
    await this.serial(async () => {
      const batch = this.store.batch();
      ctx.sessions.forget(batch, [deviceId]);
      await batch.commit();
    });
    const remaining = await this.devices();
    this.emit('devices', { deviceIds: remaining.map((d) => d.deviceId) });
  }

  // ── internals ──────────────────────────────────────────────────────────────

  private sendText(recipients: string[], conversation: Conversation, text: string): Promise<OutgoingMessage> {
    return this.serial(async () => {
      const account = this.requireAccount();
      const { ctx, tracker } = this.wire();
      const id = randomId();
      const ts = Date.now();
      const content: ContentDraft = {
        type: 'text', id, ts, text,
        ...(conversation.kind === 'direct' ? { to: conversation.handle } : { groupId: conversation.groupId }),
      };
      const options: FanoutOptions = { includeOwnDevices: true, strict: conversation.kind === 'direct', messageId: id };
      const fanout = await prepareFanout(ctx, recipients, content, options);
      this.reportProblems(fanout.problems);
      if (!fanout.envelopes.some((e) => e.toRecipient)) throw new SdkError('no_devices', 'no recipient device can be sent to');
      const record: MessageRecord = {
        id, conversation, from: account.handle, fromDevice: account.deviceId, text, ts, storedAt: Date.now(), outgoing: true, state: 'sending',
      };
      fanout.batch.put('messages', id, record);
      fanout.batch.put('seenMessages', `${account.handle}:${id}`, { at: ts });
      for (const envelope of fanout.envelopes) fanout.batch.put('outbox', envelope.id, envelope);
      await fanout.batch.commit();
      const stored = tracker.track(id);
      this.emit('message_state', { id, state: 'sending' });
      void ctx.outbox.flush();
      return { id, stored };
    });
  }

  private sendReceipt(handle: string, receipt: 'delivered' | 'read', messageIds: string[]): Promise<void> {
    return this.serial(async () => {
      const { ctx } = this.wire();
      const content: ContentDraft = { type: 'receipt', id: randomId(), ts: Date.now(), receipt, messageIds };
      const fanout = await prepareFanout(ctx, [handle], content, { includeOwnDevices: false, strict: false });
      for (const envelope of fanout.envelopes) fanout.batch.put('outbox', envelope.id, envelope);
      await fanout.batch.commit();
      void ctx.outbox.flush();
    });
  }

  private publishGroup(group: GroupRecord, audience: string[]): Promise<GroupRecord> {
    return this.serial(async () => {
      const { ctx } = this.wire();
      const me = this.requireAccount().handle;
      const content: ContentDraft = { type: 'group', id: randomId(), ts: group.updatedAt, groupId: group.groupId, name: group.name, members: group.members };
      const fanout = await prepareFanout(ctx, audience.filter((m) => m !== me), content, { includeOwnDevices: true, strict: false });
      this.reportProblems(fanout.problems);
      fanout.batch.put('groups', group.groupId, group);
      for (const envelope of fanout.envelopes) fanout.batch.put('outbox', envelope.id, envelope);
      await fanout.batch.commit();
      void ctx.outbox.flush();
      return group;
    });
  }

  private async receive(batch: DeliveredEnvelope[]): Promise<void> {
    this.sendReceipts(await receiveBatch(this.wire().ctx, batch, (event, payload) => this.emit(event, payload)));
  }

  /** Queued behind the current step, not awaited inside it: receipts are sends like any other. */
  private sendReceipts(receipts: Receipts): void {
    for (const [handle, ids] of receipts) void this.sendReceipt(handle, 'delivered', ids).catch((error: unknown) => this.emit('error', error));
  }

  private async onOutboxResult(result: OutboxResult): Promise<void> {
    for (const { record, code } of result.failed) {
      this.emit('rejected', new SdkError('send_failed', `the relay refused an envelope: ${code}`, { relayCode: code, deviceId: record.to }));
    }
    for (const change of await this.wire().tracker.apply(result)) this.emit('message_state', change);
  }

  private reportProblems(problems: Array<{ error: SdkError }>): void {
    for (const { error } of problems) {
      if (error.code !== 'untrusted_device' && error.code !== 'identity_changed') this.emit('rejected', error);
    }
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private requireAccount(): AccountRecord {
    const account = this.account;
    if (!account) throw new SdkError('not_registered', 'register or link this device first');
    return account;
  }

  private requireGroup(groupId: string): GroupRecord {
    const group = this.store.get('groups', groupId);
    if (!group) throw new SdkError('unknown_group', `no group ${groupId}`);
    if (!group.members.includes(this.requireAccount().handle)) throw new SdkError('not_a_member', 'this account left or was removed from the group');
    return group;
  }

  private othersIn(group: GroupRecord): string[] {
    return group.members.filter((m) => m !== this.requireAccount().handle);
  }

  private context(): ClientContext {
    return this.wire().ctx;
  }

  /** Builds the parts once the device has an account (after register / link). */
  private wire(): NonNullable<SealpostClient['wired']> {
    if (this.wired) return this.wired;
    const account = this.requireAccount();
    const http = new RelayHttp(account.relayUrl);
    const identity = (): LocalIdentity => localIdentityOf(this.requireAccount());
    const directory = new Directory(this.store, http, () => this.requireAccount(), {
      onIdentityChanged: (change) => this.emit('identity_changed', change),
      onDeviceRefused: (refusal) => this.emit('device_refused', refusal),
    });
    const connection: RelayConnection = new RelayConnection({
      relayUrl: account.relayUrl,
      deviceId: account.deviceId,
      devicePrivateKey: identity().device.privateKey,
      ...(this.options.reconnectBackoffMs === undefined ? {} : { backoffMs: this.options.reconnectBackoffMs }),
      onEnvelopes: (batch) => void this.serial(() => this.receive(batch)).catch((error: unknown) => this.emit('error', error)),
      onPrekeys: (status) => void this.serial(() => prekeys.replenish(status.oneTimePrekeys)).catch((error: unknown) => this.emit('error', error)),
      onState: (state, reason) => {
        if (state !== 'connected') outbox.reset();
        this.emit('state', reason === undefined ? { state } : { state, reason });
      },
      onConnected: () => {
        void outbox.flush();
        void this.serial(() => prekeys.rotateIfDue()).catch((error: unknown) => this.emit('error', error));
      },
    });
    const outbox: Outbox = new Outbox(this.store, connection, (result) => void this.onOutboxResult(result).catch((e: unknown) => this.emit('error', e)));
    const sessions = new Sessions(this.store, http, identity);
    const ctx: ClientContext = { store: this.store, http, directory, sessions, outbox, connection, account: () => this.requireAccount() };
    const prekeys = new PrekeyKeeper(this.store, http, () => this.requireAccount(), { ...DEFAULT_PREKEY_POLICY, ...this.options.prekeyPolicy });
    this.wired = { ctx, tracker: new DeliveryTracker(this.store, outbox), prekeys };
    return this.wired;
  }
}

function localSigners(local: LocalIdentity): { identity: Uint8Array; device: Uint8Array } {
  return { identity: local.identity.privateKey, device: local.device.privateKey };
}

/** Dedup ids outlive any redelivery only up to the relay's envelope TTL (30 days by default). */
const DEDUP_RETENTION_MS = 31 * 24 * 3600_000;

async function pruneDedupIds(store: LocalStore, now = Date.now()): Promise<void> {
  const batch = store.batch();
  for (const collection of ['seenEnvelopes', 'seenMessages'] as const) {
    for (const [key, seen] of store.entries(collection)) if (now - seen.at > DEDUP_RETENTION_MS) batch.delete(collection, key);
  }
  await batch.commit();
}
