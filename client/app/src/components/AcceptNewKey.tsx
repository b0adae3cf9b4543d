import { useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import { ErrorText } from './ErrorText.js';
import { useFocus } from './use-focus.js';

/**
 * Accepting a contact's new identity key takes two steps: "Accept the new key", then ticking
 * "I compared the numbers with …" enables the confirm button. Escape or Cancel steps back.
 */
export function AcceptNewKey({ model, handle, onAccepted }: { model: AppModel; handle: string; onAccepted: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [compared, setCompared] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const checkboxRef = useFocus<HTMLInputElement>(confirming);

  const cancel = () => {
    setConfirming(false);
    setCompared(false);
  };
  const accept = async () => {
    if (!compared) return;
    setBusy(true);
    setError(undefined);
    try {
      await model.client.acceptIdentity(handle);
      model.changed();
      onAccepted();
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  if (!confirming) {
    return (
      <button type="button" class="danger" onClick={() => setConfirming(true)}>Accept the new key</button>
    );
  }
  return (
    <div class="accept-confirm stack" onKeyDown={(event) => {
      // Handled here: the Escape that closes the safety number screen (Shell) must not also run.
      if (event.key !== 'Escape') return;
      event.preventDefault();
      cancel();
    }}>
      <label class="check">
        <input type="checkbox" ref={checkboxRef} checked={compared} onChange={(event) => setCompared(event.currentTarget.checked)} />
        I compared the numbers with {handle} and they match
      </label>
      <div class="row wrap">
        <button type="button" class="danger" disabled={!compared || busy} onClick={() => void accept()}>
          Confirm: accept {handle}’s new key
        </button>
        <button type="button" onClick={cancel}>Cancel</button>
      </div>
      <ErrorText error={error} />
    </div>
  );
}
