/**
 * The one state machine of an outgoing message, as a table: every write of a message's state
 * goes through `applyStateEvent`, whether the event comes from the relay (stored, refused) or
 * from the recipient (delivered and read receipts). A state never moves back: a late "stored"
 * after "delivered" changes nothing.
 *
 *   sending ──stored──▶ stored ──delivered──▶ delivered ──read──▶ read
 *      │                  └────────────read─────────────────────▶ read
 *      ├──delivered / read (a receipt before the relay's ack)──▶ delivered / read
 *      └──refused──▶ failed ──stored (sent again) / delivered / read──▶ …
 *
 * Incoming messages are `received` and take no events.
 */
import type { MessageStateEvent } from './events.js';
import type { StoreBatch } from './store/local-store.js';
import type { MessageState } from './store/records.js';

export type StateEvent = 'stored' | 'refused' | 'delivered' | 'read';

const TRANSITIONS: Readonly<Record<MessageState, Partial<Record<StateEvent, MessageState>>>> = {
  sending: { stored: 'stored', refused: 'failed', delivered: 'delivered', read: 'read' },
  stored: { delivered: 'delivered', read: 'read' },
  delivered: { read: 'read' },
  read: {},
  // A receipt can still arrive for a message that failed for some devices and reached others;
  // a failed message sent again can be stored.
  failed: { stored: 'stored', delivered: 'delivered', read: 'read' },
  received: {},
};

export function nextState(state: MessageState, event: StateEvent): MessageState | undefined {
  return TRANSITIONS[state][event];
}

/** Applies `event` to message `id` in `batch`; returns the change to emit, if the state moved. */
export function applyStateEvent(batch: StoreBatch, id: string, event: StateEvent, reason?: string): MessageStateEvent | undefined {
  const message = batch.get('messages', id);
  if (!message?.outgoing) return undefined;
  const state = nextState(message.state, event);
  if (!state) return undefined;
  const failure = state === 'failed' && reason !== undefined ? { failure: reason } : {};
  const { failure: _previous, ...rest } = message;
  batch.put('messages', id, { ...rest, state, ...failure });
  return state === 'failed' && reason !== undefined ? { id, state, reason } : { id, state };
}
