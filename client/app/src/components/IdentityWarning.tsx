import { useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';

/** Blocks sending to `handle` until the user accepts their new identity key. */
export function IdentityWarning({ model, handle, inGroup, onCompare }: { model: AppModel; handle: string; inGroup: boolean; onCompare: () => void }) {
  const [error, setError] = useState<string | undefined>(undefined);
  const accept = async () => {
    try {
      await model.client.acceptIdentity(handle);
      model.changed();
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <div class="identity-warning" role="alert">
      <p>
        <strong>{handle}’s safety number changed.</strong> They may have reinstalled, or someone may be
        intercepting your messages. {inGroup ? `Group messages skip ${handle} until then.` : 'Sending is paused.'} Compare the new safety number with {handle} in person or by
        another channel before you continue.
      </p>
      <div class="row">
        <button type="button" onClick={onCompare}>Compare safety number</button>
        <button type="button" class="danger" onClick={() => void accept()}>Accept new key</button>
      </div>
      {error && <p class="error-text">{error}</p>}
    </div>
  );
}
