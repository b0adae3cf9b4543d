/**
 * What the local store holds, as plain JSON (bytes as unpadded base64url) so every backend —
 * a JSON file in Node, IndexedDB in the browser — persists the same records. Private keys live
 * only in `account`, `signedPrekeys` and `oneTimePrekeys`, and never leave the device (protocol
 * v2: a linked device gets no private key from the one that approved it).
 */
import type { DeviceListHead } from '../../../crypto/index.js';
import type { SignedDeviceListJson } from '../../../protocol/http.js';
import type { AttachmentPointer } from '../content.js';

export interface KeyPairRecord {
  publicKey: string;
  privateKey: string;
}

export interface AccountRecord {
  /** 2 for protocol v2 profiles; v1 profiles (no such field) cannot be used and must be reset. */
  v: 2;
  relayUrl: string;
  handle: string;
  /** The account identity (authority) PUBLIC key: safety numbers and device lists hang on it. */
  identityKey: string;
  /**
   * The authority key pair — only on the device that created the account or recovered it.
   * It signs device lists (adding and removing devices); linked devices never hold it.
   */
  authority?: KeyPairRecord;
  device: KeyPairRecord;
  deviceId: string;
  /** The newest own device list this device verified (the highest version it will accept). */
  deviceList: SignedDeviceListJson;
  /** Next key id for a signed or one-time prekey (ids are never reused on a device). */
  nextPrekeyId: number;
}

export interface SignedPrekeyRecord extends KeyPairRecord {
  keyId: number;
  signature: string;
  createdAt: number;
  /** Set when a newer signed prekey replaced it; kept for a grace period for late prekey messages. */
  retiredAt?: number;
}

export interface OneTimePrekeyRecord extends KeyPairRecord {
  keyId: number;
}

/** Ratchet sessions with one remote device, newest (active) first; older ones decrypt stragglers. */
export interface SessionRecord {
  deviceId: string;
  handle: string;
  sessions: string[];
}

export interface ContactDeviceRecord {
  deviceId: string;
  createdAt: number;
}

export interface ContactRecord {
  handle: string;
  /** The pinned account identity key (trust on first use). */
  identityKey: string;
  /** A different identity key the relay now reports; sending is blocked until accepted. */
  changedIdentityKey?: string;
  /** The devices of the newest verified device list (a bundle's signed prekey is checked when claimed). */
  devices: ContactDeviceRecord[];
  /**
   * Head of the newest device list verified for this contact: a list with a lower version is
   * a rollback and is refused. Absent on a contact known only from a sync (not looked up yet).
   */
  listHead?: DeviceListHead;
  /** That list's signing time: a newer version may not be older. */
  listTime?: number;
  verified?: boolean;
  lookedUpAt: number;
}

/** A name the user gave one of the account's own devices; shared only among own devices. */
export interface DeviceNameRecord {
  deviceId: string;
  name: string;
  /** When it was named; the newest name wins when two devices rename at once. */
  at: number;
}

export type MessageState = 'sending' | 'stored' | 'delivered' | 'read' | 'failed' | 'received';

export type Conversation = { kind: 'direct'; handle: string } | { kind: 'group'; groupId: string };

export interface MessageRecord {
  id: string;
  conversation: Conversation;
  from: string;
  fromDevice: string;
  text: string;
  /** The sender's clock, milliseconds since the epoch. */
  ts: number;
  /** The sending device's count of texts in this conversation (orders history, reveals gaps). */
  n?: number;
  /** This device's clock when stored; orders a conversation's history. */
  storedAt: number;
  outgoing: boolean;
  state: MessageState;
  /** A file message: where its blob is and how to open it (`text` is then its caption, or ''). */
  attachment?: AttachmentPointer;
  failure?: string;
  /** Group messages we sent: who confirmed delivery and reading (the state moves when all members have). */
  deliveredBy?: string[];
  readBy?: string[];
}

export interface SeenRecord {
  at: number;
}

/** A sealed envelope the relay has not acknowledged yet; resent with the same id. */
export interface OutboxRecord {
  id: string;
  to: string;
  body: string;
  /** The content (a PendingContentRecord) this envelope carries. */
  contentId: string;
  /** The account `to` belongs to, and the version of its device list the envelope was sealed under. */
  handle: string;
  list: number;
  /** The message this envelope carries a copy of (absent for receipts and control messages). */
  messageId?: string;
  /** Whether `to` is a device of the message's recipients (not one of the sender's own). */
  toRecipient: boolean;
  order: number;
}

/**
 * A content on its way out, kept until every envelope carrying it is settled, so that the
 * relay's `stale_devices` refusal can be answered by sealing it again for the current devices.
 */
export interface PendingContentRecord {
  id: string;
  /** The content as encoded, before the per-recipient heads (JSON of a ContentDraft). */
  draft: string;
  /** Recipient accounts (our own is reached through `includeOwnDevices`). */
  recipients: string[];
  includeOwnDevices: boolean;
  messageId?: string;
  /** How many times it was sealed again after a stale device list (bounded). */
  restarts: number;
  /** A decryption-error notice: only this device, in a new session (kept for sealing again). */
  onlyDevice?: string;
  freshSession?: boolean;
}

/**
 * An envelope from a contact whose identity key changed, kept sealed (its session is not
 * stored) until the user accepts the new key; then it goes through the receive pipeline again.
 */
export interface HeldEnvelopeRecord {
  id: string;
  /** base64url of the sealed body, exactly as the relay delivered it. */
  body: string;
  handle: string;
  heldAt: number;
}

export interface GroupRecord {
  groupId: string;
  /** Counts changes: only a newer epoch from an admin of this state is taken (apply-content.ts). */
  epoch: number;
  name: string;
  members: string[];
  /** Members who may add and remove members and rename; the creator first. */
  admins: string[];
  updatedAt: number;
}

/** A conversation this account has, known without its history (e.g. from a sync to a new device). */
export interface ConversationRecord {
  conversation: Conversation;
  /** When it became known here; orders conversations without messages. */
  at: number;
}

/**
 * The X3DH base key of a session this device accepted: a second prekey message with the same
 * base key is a replay and never becomes a session. Kept while the signed prekey it used is
 * kept (after that, such a message fails as unknown_prekey anyway).
 */
export interface AcceptedBaseKeyRecord {
  signedPrekeyId: number;
  at: number;
}

/**
 * Per conversation and sending device (key `conversation|deviceId`): the highest text count seen
 * and the counts below it not seen yet — a message the relay dropped, or one still on its way.
 */
export interface ReceivedCountRecord {
  handle: string;
  deviceId: string;
  conversation: Conversation;
  max: number;
  /** Missing counts (at most 100) and when each was first noticed missing. */
  missing: Array<{ n: number; since: number }>;
}

/** The next text count of this device per conversation (key: conversation key). */
export interface SendCountRecord {
  next: number;
}

export interface Collections {
  account: AccountRecord;
  signedPrekeys: SignedPrekeyRecord;
  oneTimePrekeys: OneTimePrekeyRecord;
  sessions: SessionRecord;
  contacts: ContactRecord;
  messages: MessageRecord;
  seenEnvelopes: SeenRecord;
  seenMessages: SeenRecord;
  outbox: OutboxRecord;
  groups: GroupRecord;
  heldEnvelopes: HeldEnvelopeRecord;
  deviceNames: DeviceNameRecord;
  conversations: ConversationRecord;
  acceptedBaseKeys: AcceptedBaseKeyRecord;
  pendingContents: PendingContentRecord;
  receivedCounts: ReceivedCountRecord;
  sendCounts: SendCountRecord;
}

export type CollectionName = keyof Collections;

export const COLLECTIONS: readonly CollectionName[] = [
  'account', 'signedPrekeys', 'oneTimePrekeys', 'sessions', 'contacts',
  'messages', 'seenEnvelopes', 'seenMessages', 'outbox', 'groups', 'heldEnvelopes', 'deviceNames',
  'conversations', 'acceptedBaseKeys', 'pendingContents', 'receivedCounts', 'sendCounts',
];

/** One put (value) or delete (value null) in an atomic batch. */
export type StoreWrite = { [C in CollectionName]: { collection: C; key: string; value: Collections[C] | null } }[CollectionName];

export type Snapshot = { [C in CollectionName]: Record<string, Collections[C]> };
