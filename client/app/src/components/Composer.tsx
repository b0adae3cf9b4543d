import { useState } from 'preact/hooks';
import type { Conversation } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';

/** Enter sends, Shift+Enter adds a line. Works offline: the message waits in the outbox. */
export function Composer({ model, conversation, blockedReason }: { model: AppModel; conversation: Conversation; blockedReason: string | undefined }) {
  const [text, setText] = useState('');
  const send = () => {
    const body = text.trim();
    if (!body || blockedReason) return;
    setText('');
    void model.send(conversation, body);
  };
  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
    >
      {blockedReason && <p class="blocked">{blockedReason}</p>}
      <label for="composer-text" class="visually-hidden">Message</label>
      <textarea
        id="composer-text"
        rows={1}
        autoFocus
        placeholder={blockedReason ? '' : 'Message'}
        value={text}
        disabled={blockedReason !== undefined}
        onInput={(event) => {
          setText(event.currentTarget.value);
          model.userTyping(conversation);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            send();
          }
        }}
      />
      <button type="submit" class="primary" disabled={blockedReason !== undefined || !text.trim()}>Send</button>
    </form>
  );
}
