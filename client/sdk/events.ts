/** The SealpostClient's typed events: what an app listens to. */
import type { ConnectionState } from './connection.js';
import type { DeviceRefusal, IdentityChange } from './directory.js';
import type { SdkError } from './errors.js';
import type { Conversation, MessageState } from './store/records.js';

export interface MessageEvent {
  id: string;
  conversation: Conversation;
  from: string;
  device: string;
  text: string;
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
  group: GroupEvent;
  devices: { deviceIds: string[] };
  /** Envelopes that could not be used (undecryptable, untrusted sender, bad content). */
  rejected: SdkError;
  error: unknown;
}
