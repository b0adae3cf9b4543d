import type { MessageState } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { describeFailure, isPermanentFailure } from '../model/describe-error.js';
import { timeLabel, type TimelineItem } from '../model/timeline.js';
import { AttachmentView } from './AttachmentView.js';
import { NotDelivered } from './NotDelivered.js';

const STATE_LABELS: Record<MessageState, string> = {
  sending: 'Sending…', stored: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Failed', received: '',
};

type BubbleItem = Extract<TimelineItem, { kind: 'message' | 'unsent' }>;

/** One message (a file's message shows the file, and its caption if any). Its text is a text node: markup in it is shown, never parsed. */
export function MessageBubble({ model, item, showSender }: { model: AppModel; item: BubbleItem; showSender: boolean }) {
  const message = item.kind === 'message' ? item.message : undefined;
  const outgoing = message ? message.outgoing : true;
  const text = message ? message.text : item.kind === 'unsent' ? item.unsent.text : '';
  // A send refused only because the relay was unreachable waits for the reconnect like a queued one.
  const state: MessageState = message ? message.state : item.kind === 'unsent' && item.unsent.retryOnReconnect ? 'sending' : 'failed';
  // A stored message keeps the relay's or the SDK's code; an unsent one was put in words already.
  const reason = message ? describeFailure(message.failure) : item.kind === 'unsent' ? item.unsent.reason : undefined;
  // Sending again cannot fix some failures (too large for the relay): then only Delete is offered.
  const permanent = message ? isPermanentFailure(message.failure) : item.kind === 'unsent' && item.unsent.permanent === true;
  const ts = message ? message.ts : item.at;
  const queued = state === 'sending' && model.connection !== 'connected';
  const notArrived = item.kind === 'message' && item.notArrived;
  const which = message ? { messageId: message.id } : { localId: item.kind === 'unsent' ? item.unsent.localId : '' };
  const retry = () => void model.retry(which);
  const discard = () => void model.discardFailed(which);

  return (
    <li class={`bubble ${outgoing ? 'outgoing' : 'incoming'} state-${state}${notArrived ? ' not-arrived' : ''}`} data-state={state} data-id={message?.id}>
      {showSender && !outgoing && message && <span class="sender">{message.from}</span>}
      {message?.attachment && <AttachmentView model={model} pointer={message.attachment} />}
      {(text || !message?.attachment) && <p class="text">{text}</p>}
      <span class="meta">
        <time>{timeLabel(ts)}</time>
        {outgoing && <span class="state">{queued ? 'Queued — will send when connected' : STATE_LABELS[state]}</span>}
      </span>
      {state === 'failed' && (
        <span class="failure">
          <span class="reason">{reason ?? 'Not sent.'}</span>
          {!permanent && <button type="button" class="link" onClick={retry}>Retry</button>}
          <button type="button" class="link" onClick={discard} aria-label="Delete this unsent message">Delete</button>
        </span>
      )}
      {notArrived && message && <NotDelivered model={model} messageId={message.id} />}
    </li>
  );
}
