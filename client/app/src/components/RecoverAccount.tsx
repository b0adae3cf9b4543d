import { useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import { ErrorText } from './ErrorText.js';
import { useFocus } from './use-focus.js';

const HANDLE_PATTERN = '[a-z0-9_.\\-]{3,32}';

/** On a fresh browser: takes an account back with the recovery key written down earlier. */
export function RecoverAccount({ model, onCancel }: { model: AppModel; onCancel: () => void }) {
  const [handle, setHandle] = useState('');
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const handleRef = useFocus<HTMLInputElement>();

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await model.recover(handle.trim(), key.trim());
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <main class="welcome">
      <div class="card">
        <h1 class="brand">Recover an account</h1>
        <p class="lede">Enter your handle and the recovery key you wrote down. This browser becomes the account’s main device.</p>
        <form onSubmit={submit} class="stack">
          <label for="recover-handle">Handle</label>
          <input
            id="recover-handle"
            ref={handleRef}
            autoComplete="username"
            autoCapitalize="none"
            spellcheck={false}
            required
            pattern={HANDLE_PATTERN}
            value={handle}
            onInput={(e) => setHandle(e.currentTarget.value.toLowerCase())}
            disabled={busy}
          />
          <label for="recover-key">Recovery key</label>
          <textarea
            id="recover-key"
            rows={3}
            autoComplete="off"
            autoCapitalize="none"
            spellcheck={false}
            required
            placeholder="abcd-efgh-…"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
            disabled={busy}
          />
          <p class="hint">
            Your other devices are signed out, and your contacts see that you changed devices. Earlier messages are not
            restored: they were only ever on your old devices.
          </p>
          <ErrorText error={error} />
          <button type="submit" class="primary" disabled={busy}>{busy ? 'Recovering…' : 'Recover account'}</button>
        </form>
        <button type="button" onClick={onCancel} disabled={busy}>Back</button>
      </div>
    </main>
  );
}
