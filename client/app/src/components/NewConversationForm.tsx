import { useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import type { Navigate } from '../route.js';
import { ErrorText } from './ErrorText.js';

/** Start a 1:1 conversation by handle (the handle is looked up and its devices verified first). */
export function NewConversationForm({ model, navigate }: { model: AppModel; navigate: Navigate }) {
  const [handle, setHandle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  const submit = async (event: Event) => {
    event.preventDefault();
    const wanted = handle.trim().toLowerCase();
    if (!wanted) return;
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
          placeholder="handle"
          autoCapitalize="none"
          spellcheck={false}
          value={handle}
          onInput={(e) => setHandle(e.currentTarget.value)}
          disabled={busy}
        />
        <button type="submit" disabled={busy || !handle.trim()}>Start</button>
      </div>
      <ErrorText error={error} />
    </form>
  );
}
