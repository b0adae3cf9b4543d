import { useEffect, useState } from 'preact/hooks';
import type { PendingLink } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import { ErrorText } from './ErrorText.js';
import { QrImage } from './QrImage.js';

/** On a NEW device: shows the link code to enter on a device that is already signed in. */
export function LinkThisDevice({ model, onCancel }: { model: AppModel; onCancel: () => void }) {
  const [pending, setPending] = useState<PendingLink | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);

  useEffect(() => {
    let live = true;
    let link: PendingLink;
    try {
      link = model.beginLink();
    } catch (err) {
      setError(describeError(err));
      return undefined;
    }
    setPending(link);
    model.finishLink(link).catch((err: unknown) => live && setError(describeError(err)));
    return () => {
      live = false;
      link.cancel();
    };
  }, [model]);

  return (
    <main class="welcome">
      <div class="card">
        <h1 class="brand">Link this device</h1>
        <p class="lede">On a device where you are signed in, open <strong>Devices</strong> and enter this code (or scan it).</p>
        {pending && (
          <>
            <QrImage text={pending.code} label="Link code as a QR code" />
            <label for="link-code-output">Link code</label>
            <output id="link-code-output" class="code" data-testid="link-code">{pending.code}</output>
            <p class="hint waiting" aria-live="polite">Waiting for approval…</p>
          </>
        )}
        <ErrorText error={error} />
        <button type="button" onClick={onCancel}>Back</button>
      </div>
    </main>
  );
}
