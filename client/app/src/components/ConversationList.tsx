import type { Conversation } from '../../../sdk/index.js';
import { conversationKey } from '../model/conversation-key.js';
import type { ConversationSummary } from '../model/conversation-summaries.js';
import { dayOf, timeLabel } from '../model/timeline.js';
import type { Navigate } from '../route.js';

function when(ts: number): string {
  return dayOf(ts) === dayOf(Date.now()) ? timeLabel(ts) : new Date(ts).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

export function ConversationList({ summaries, selected, navigate }: { summaries: ConversationSummary[]; selected: Conversation | undefined; navigate: Navigate }) {
  if (summaries.length === 0) {
    return <p class="empty">No conversations yet. Start one above with someone’s handle.</p>;
  }
  const selectedKey = selected ? conversationKey(selected) : undefined;
  return (
    <ul class="conversations">
      {summaries.map((summary) => (
        <li key={summary.key}>
          <button
            type="button"
            class={`conversation-item${summary.key === selectedKey ? ' selected' : ''}`}
            aria-current={summary.key === selectedKey ? 'true' : undefined}
            data-conversation={summary.key}
            onClick={() => navigate({ screen: 'chat', conversation: summary.conversation })}
          >
            <span class="conversation-title">
              {summary.conversation.kind === 'group' && <span class="group-mark" aria-label="group">#</span>}
              {summary.title}
            </span>
            {summary.last && <time class="conversation-time">{when(summary.last.ts)}</time>}
            <span class="conversation-last">
              {summary.last ? `${summary.last.outgoing ? 'You: ' : summary.conversation.kind === 'group' ? `${summary.last.from}: ` : ''}${summary.last.text || (summary.last.attachment ? `File: ${summary.last.attachment.fileName}` : '')}` : 'No messages yet'}
            </span>
            {summary.unread > 0 && <span class="unread" aria-label={`${summary.unread} unread`}>{summary.unread}</span>}
          </button>
        </li>
      ))}
    </ul>
  );
}
