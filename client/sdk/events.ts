/** The SealpostClient's typed events: what an app listens to. */
import type { ConnectionState } from './connection.js';
import type { DeviceListHead } from '../../crypto/index.js';
import type { DeviceListRefusal, DeviceRefusal, DevicesChanged, IdentityChange } from './directory.js';
import type { AttachmentPointer } from './content.js';
import type { SdkError } from './errors.js';
import type { Conversation, MessageState } from './store/records.js';

export interface MessageEvent {
  id: string;
  conversation: Conversation;
  from: string;
  device: string;
  /** The text, or a file's caption ('' without one). */
  text: string;
  /** A file: download it with `client.downloadAttachment(attachment)`. */
  attachment?: AttachmentPointer;
  ts: number;
  /** Sent by this account (a copy from one of our other devices). */
  outgoing: boolean;
}

export interface ReceiptEvent {
  from: string;
  device: string;
  receipt: 'delivered' | 'read';
  messageIds: string[];
}

export interface TypingEvent {
  from: string;
  device: string;
  typing: boolean;
  groupId?: string;
}

export interface MessageStateEvent {
  id: string;
  state: MessageState;
  /** Why it failed (the relay's or the SDK's error code), on `failed`. */
  reason?: string;
}

export interface GroupEvent {
  groupId: string;
  name: string;
  members: string[];
  by: string;
  added: string[];
  removed: string[];
}

/**
 * A device-list head carried inside a message differs from what the relay served us: the relay
 * shows different device sets to different people (a split view), or one side is behind.
 * `sender`: the head of the sender's own list, as the sender's device knows it.
 * `recipient`: the head of OUR list that the sender encrypted to.
 */
export interface DeviceListMismatch {
  /** Whose list: the sender's handle (`sender`) or ours (`recipient`). */
  handle: string;
  kind: 'sender' | 'recipient';
  /** The message's sender, who carried the head. */
  from: string;
  inBand: DeviceListHead;
  /** The newest head we verified from the relay, after refreshing. */
  known: DeviceListHead | undefined;
}

export interface SendProblem {
  handle: string;
  deviceId?: string;
  /** An SdkError code or the relay's wire code (e.g. untrusted_device, unknown_device, quota_exceeded). */
  code: string;
  messageId?: string;
}

export type Emit = <E extends keyof SealpostEvents>(event: E, payload: SealpostEvents[E]) => void;

export interface SealpostEvents {
  [name: string]: unknown;
  message: MessageEvent;
  receipt: ReceiptEvent;
  typing: TypingEvent;
  state: { state: ConnectionState; reason?: string };
  message_state: MessageStateEvent;
  identity_changed: IdentityChange;
  device_refused: DeviceRefusal;
  /** The relay served a device list we refuse (unsigned, rolled back, forked): nothing is sent to its devices. */
  device_list_refused: DeviceListRefusal;
  device_list_mismatch: DeviceListMismatch;
  /** A contact's (or our own) device set changed: the app shows "bob linked a new device". */
  devices_changed: DevicesChanged;
  /** This device is no longer in its account's list: it stops, and can read nothing new. */
  device_removed: { handle: string; version: number };
  /** Another of our devices renamed a device (names are shared only among own devices). */
  device_names: { names: Array<{ deviceId: string; name: string }> };
  /** A contact's device could not decrypt what we sent: we send it our unconfirmed messages again, in the new session it started. */
  decryption_error: { handle: string; deviceId: string };
  /** A device we linked confirmed that it registered (it then gets a sync). */
  device_linked: { deviceId: string };
  /** A linked device received the account's contacts, groups and conversations. */
  synced: { contacts: number; groups: number; conversations: number };
  group: GroupEvent;
  /**
   * Something in a send did not go to one recipient or device: an untrusted or unknown device, a
   * list we refuse, a relay refusal. The message itself may still have reached the others.
   */
  send_problem: SendProblem;
  /** Envelopes that could not be used (undecryptable, untrusted sender, bad content). */
  rejected: SdkError;
  error: unknown;
}
