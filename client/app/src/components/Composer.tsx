import { useState } from 'preact/hooks';
import { MAX_TEXT_LENGTH, type Conversation } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { describeTooLong } from '../model/describe-error.js';
import { AttachButton } from './AttachButton.js';

/**
 * Enter sends, Shift+Enter adds a line. Works offline: the message waits in the outbox. Files
 * come from the attach button or pasted into the text (pictures copied to the clipboard). A text
 * longer than a message holds (the SDK's MAX_TEXT_LENGTH) is never sent: the composer says so
 * before sending, keeps the text, and offers to send it as a file instead.
 */
export function Composer({ model, conversation, blockedReason }: { model: AppModel; conversation: Conversation; blockedReason: string | undefined }) {
  const [text, setText] = useState('');
  const attach = (files: File[]) => model.attachments.attach(conversation, files);
  const tooLong = text.trim().length > MAX_TEXT_LENGTH;
  const send = () => {
    const body = text.trim();
    if (!body || blockedReason || tooLong) return;
    setText('');
    void model.send(conversation, body);
  };
  const sendAsFile = () => {
    attach([new File([text], 'message.txt', { type: 'text/plain' })]);
    setText('');
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
      {tooLong && !blockedReason && (
        <div class="too-long" id="composer-too-long" role="alert">
          <span>{describeTooLong(text.trim().length, MAX_TEXT_LENGTH)}</span>
          <button type="button" class="link" onClick={sendAsFile}>Send as a file</button>
        </div>
      )}
      <AttachButton disabled={blockedReason !== undefined} onFiles={attach} />
      <label for="composer-text" class="visually-hidden">Message</label>
      <textarea
        id="composer-text"
        rows={1}
        autoFocus
        placeholder={blockedReason ? '' : 'Message'}
        value={text}
        disabled={blockedReason !== undefined}
        aria-invalid={tooLong}
        aria-describedby={tooLong ? 'composer-too-long' : undefined}
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
      <button type="submit" class="primary" disabled={blockedReason !== undefined || !text.trim() || tooLong}>Send</button>
    </form>
  );
}
