import { useState } from 'preact/hooks';
import type { Conversation } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { AttachButton } from './AttachButton.js';

/**
 * Enter sends, Shift+Enter adds a line. Works offline: the message waits in the outbox. Files
 * come from the attach button or pasted into the text (pictures copied to the clipboard).
 */
export function Composer({ model, conversation, blockedReason }: { model: AppModel; conversation: Conversation; blockedReason: string | undefined }) {
  const [text, setText] = useState('');
  const attach = (files: File[]) => model.attachments.attach(conversation, files);
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
      <AttachButton disabled={blockedReason !== undefined} onFiles={attach} />
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
        onPaste={(event) => {
          const files = [...(event.clipboardData?.files ?? [])];
          if (files.length === 0 || blockedReason) return;
          // Otherwise the browser would also paste the file's name as text.
          event.preventDefault();
          attach(files);
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
