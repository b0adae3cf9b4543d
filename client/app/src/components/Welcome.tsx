import { useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { describeError, describeHandleInput } from '../model/describe-error.js';
import { parseHandle } from '../model/handle-input.js';
import { ErrorText } from './ErrorText.js';
import { LinkThisDevice } from './LinkThisDevice.js';
import { RecoverAccount } from './RecoverAccount.js';
import { ThemeSwitch } from './ThemeSwitch.js';
import { useFocus } from './use-focus.js';

/** First run: create an account (keys are generated here, in the browser), link to one, or recover one. */
export function Welcome({ model }: { model: AppModel }) {
  const [handle, setHandle] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [mode, setMode] = useState<'register' | 'link' | 'recover'>('register');
  // On every return to this step too (Cancel on linking or recovering), not only on first load as autofocus.
  const handleRef = useFocus<HTMLInputElement>(mode);

  if (mode === 'link') return <LinkThisDevice model={model} onCancel={() => setMode('register')} />;
  if (mode === 'recover') return <RecoverAccount model={model} onCancel={() => setMode('register')} />;

  const submit = async (event: Event) => {
    event.preventDefault();
    // Checked here, in words ("@Alice" is alice), not by the browser's pattern message.
    const parsed = parseHandle(handle);
    if (!parsed.ok) return setError(describeHandleInput(parsed, handle));
    setBusy(true);
    setError(undefined);
    try {
      await model.register(parsed.handle);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <main class="welcome">
      <div class="card">
        <h1 class="brand">Sealpost</h1>
        <p class="lede">End-to-end encrypted messages. Your keys are made on this device and never leave it.</p>
        <form onSubmit={submit} class="stack">
          <label for="handle-input">Pick a handle</label>
          <input
            id="handle-input"
            ref={handleRef}
            name="handle"
            autoComplete="username"
            autoCapitalize="none"
            spellcheck={false}
            required
            aria-invalid={error !== undefined}
            value={handle}
            onInput={(e) => setHandle(e.currentTarget.value)}
            disabled={busy}
          />
          <p class="hint">3–32 characters: lowercase letters, digits, “.”, “-”, “_”.</p>
          <ErrorText error={error} />
          <button type="submit" class="primary" disabled={busy}>{busy ? 'Creating keys…' : 'Create account'}</button>
        </form>
        <div class="divider"><span>or</span></div>
        <button type="button" onClick={() => setMode('link')} disabled={busy}>Link to an existing account</button>
        <button type="button" onClick={() => setMode('recover')} disabled={busy}>Recover an account</button>
        <ThemeSwitch />
      </div>
    </main>
  );
}
