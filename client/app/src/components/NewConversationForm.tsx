import { useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { describeError, describeHandleInput } from '../model/describe-error.js';
import { parseHandle } from '../model/handle-input.js';
import type { Navigate } from '../route.js';
import { ErrorText } from './ErrorText.js';

/**
 * Start a 1:1 conversation by handle ("@Bob" works: see handle-input.ts); the handle is checked
 * here, then looked up and its devices verified.
 */
export function NewConversationForm({ model, navigate }: { model: AppModel; navigate: Navigate }) {
  const [handle, setHandle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  const submit = async (event: Event) => {
    event.preventDefault();
    const parsed = parseHandle(handle);
    if (!parsed.ok) {
      setError(describeHandleInput(parsed, handle));
      return;
    }
    const wanted = parsed.handle;
    if (wanted === model.handle) {
      setError('That is you. Your other devices see every conversation already.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const conversation = await model.startConversation(wanted);
      setHandle('');
      navigate({ screen: 'chat', conversation });
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="new-conversation" onSubmit={submit}>
      <label for="new-conversation-handle">Start a conversation</label>
      <div class="row">
        <input
          id="new-conversation-handle"
          placeholder="@handle"
          autoCapitalize="none"
          spellcheck={false}
          value={handle}
          aria-invalid={error !== undefined}
          aria-describedby={error ? 'new-conversation-error' : undefined}
          onInput={(e) => setHandle(e.currentTarget.value)}
          disabled={busy}
        />
        <button type="submit" disabled={busy || !handle.trim()}>Start</button>
      </div>
      <ErrorText error={error} id="new-conversation-error" />
    </form>
  );
}
