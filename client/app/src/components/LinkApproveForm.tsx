import { useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import { ErrorText } from './ErrorText.js';

/** On a signed-in device: enter the code a new device shows, to give it this account. */
export function LinkApproveForm({ model, onLinked }: { model: AppModel; onLinked: () => void }) {
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      await model.approveLink(code);
      setCode('');
      setDone('Approved. The new device finishes linking in a moment.');
      setTimeout(onLinked, 2500);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="stack link-approve" onSubmit={submit}>
      <h3>Link a new device</h3>
      <p class="hint">On the new device choose “Link to an existing account”, then enter the code it shows. Only enter a code from a device you hold.</p>
      <label for="link-code-input">Link code</label>
      <div class="row">
        <input id="link-code-input" autoCapitalize="none" autoComplete="off" spellcheck={false} value={code} onInput={(e) => setCode(e.currentTarget.value)} disabled={busy} />
        <button type="submit" class="primary" disabled={busy || !code.trim()}>Link device</button>
      </div>
      <ErrorText error={error} />
      {done && <p class="success" role="status">{done}</p>}
    </form>
  );
}
