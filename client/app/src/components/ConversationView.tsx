import { useState } from 'preact/hooks';
import type { Conversation } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { conversationKey } from '../model/conversation-key.js';
import type { Navigate } from '../route.js';
import { Composer } from './Composer.js';
import { IdentityWarning } from './IdentityWarning.js';
import { MessageList } from './MessageList.js';
import { PendingUploads } from './PendingUploads.js';
import { TypingIndicator } from './TypingIndicator.js';
import { useFileDrop } from './use-file-drop.js';

/** One conversation: header, trust warnings, timeline, files being sent, typing line and composer; files dropped on it are sent. */
export function ConversationView({ model, conversation, navigate, onBack }: { model: AppModel; conversation: Conversation; navigate: Navigate; onBack: () => void }) {
  const group = conversation.kind === 'group' ? model.group(conversation.groupId) : undefined;
  const people = conversation.kind === 'direct' ? [conversation.handle] : (group?.members ?? []).filter((m) => m !== model.handle);
  const changed = people.filter((h) => model.client.contact(h)?.changedIdentityKey !== undefined);
  const verified = conversation.kind === 'direct' && model.client.contact(conversation.handle)?.verified === true && changed.length === 0;
  const member = conversation.kind === 'direct' || (group?.members.includes(model.handle ?? '') ?? false);
  // A direct conversation stops; a group goes on without the member whose key changed (the SDK skips them).
  const blockedReason = !member
    ? 'You are no longer a member of this group.'
    : conversation.kind === 'direct' && changed.length > 0 ? 'Sending is paused until you accept the new safety number.' : undefined;
  // What was read before opening (marked read as soon as it shows): where "New messages" goes.
  const [readUpTo] = useState(() => model.memory.readUpTo(conversationKey(conversation)));
  const drop = useFileDrop((files) => model.attachments.attach(conversation, files), blockedReason === undefined);

  return (
    <section class={`conversation${drop.dragging ? ' dragging' : ''}`} aria-label={`Conversation with ${model.title(conversation)}`} {...drop.handlers}>
      <header class="pane-header">
        <button type="button" class="back" onClick={onBack} aria-label="Back to conversations">‹</button>
        <h2 title={model.title(conversation)}>
          {model.title(conversation)}
          {verified && <span class="verified" title="You verified this safety number">✓ verified</span>}
        </h2>
        {conversation.kind === 'direct' ? (
          <button type="button" class="link" onClick={() => navigate({ screen: 'safety', handle: conversation.handle })}>Safety number</button>
        ) : (
          <button type="button" class="link" onClick={() => navigate({ screen: 'group-settings', groupId: conversation.groupId })}>
            Members ({group?.members.length ?? 0})
          </button>
        )}
      </header>
      {changed.map((handle) => (
        <IdentityWarning key={handle} handle={handle} inGroup={conversation.kind === 'group'} onCompare={() => navigate({ screen: 'safety', handle })} />
      ))}
      <MessageList model={model} items={model.timeline(conversation)} group={conversation.kind === 'group'} readUpTo={readUpTo} />
      {drop.dragging && <p class="drop-hint" aria-hidden="true">Drop files to send them to {model.title(conversation)}</p>}
      <PendingUploads model={model} conversation={conversation} />
      <TypingIndicator people={model.typingIn(conversation)} />
      <Composer model={model} conversation={conversation} blockedReason={blockedReason} />
    </section>
  );
}
