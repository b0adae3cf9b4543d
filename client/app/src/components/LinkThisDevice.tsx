import { useEffect, useState } from 'preact/hooks';
import { SdkError, type PendingLink } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import { LINK_CODE_LIFETIME_MS } from '../model/own-devices.js';
import { timeLabel } from '../model/timeline.js';
import { CopyButton } from './CopyButton.js';
import { ErrorText } from './ErrorText.js';
import { QrImage } from './QrImage.js';
import { useFocus } from './use-focus.js';

interface Shown {
  link: PendingLink;
  expiresAt: number;
}

/**
 * On a NEW device: shows a link code to enter on the device that created the account. The code
 * is good for 10 minutes; once it expired the user can ask for a new one.
 */
export function LinkThisDevice({ model, onCancel }: { model: AppModel; onCancel: () => void }) {
  const [attempt, setAttempt] = useState(0);
  const [shown, setShown] = useState<Shown | undefined>(undefined);
  const [expired, setExpired] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const focusRef = useFocus<HTMLButtonElement>(`${shown?.link.code}:${expired}`);

  useEffect(() => {
    let live = true;
    let link: PendingLink;
    setExpired(false);
    setError(undefined);
    try {
      link = model.beginLink();
    } catch (err) {
      setError(describeError(err));
      return undefined;
    }
    setShown({ link, expiresAt: Date.now() + LINK_CODE_LIFETIME_MS });
    model.finishLink(link).catch((err: unknown) => {
      if (!live) return;
      if (err instanceof SdkError && err.code === 'link_timeout') setExpired(true);
      else setError(describeError(err));
    });
    return () => {
      live = false;
      link.cancel();
    };
  }, [model, attempt]);

  return (
    <main class="welcome">
      <div class="card">
        <h1 class="brand">Link this device</h1>
        <p class="lede">
          On the device that created your account, open <strong>Devices</strong> and enter this code (or scan it).
        </p>
        {shown && !expired && (
          <>
            <QrImage text={shown.link.code} label="Link code as a QR code" />
            <label for="link-code-output">Link code</label>
            <output id="link-code-output" class="code" data-testid="link-code">{shown.link.code}</output>
            <div class="row">
              <CopyButton text={shown.link.code} label="Copy code" buttonRef={focusRef} />
            </div>
            <p class="hint" data-testid="link-code-expiry">
              This code expires at {timeLabel(shown.expiresAt)} (10 minutes after it was shown).
            </p>
            <p class="hint waiting" role="status" aria-live="polite">Waiting for approval…</p>
          </>
        )}
        {expired && (
          <div class="stack">
            <p role="alert">This code expired before it was approved.</p>
            <button type="button" class="primary" ref={focusRef} onClick={() => setAttempt((n) => n + 1)}>Show a new code</button>
          </div>
        )}
        <ErrorText error={error} />
        <button type="button" onClick={onCancel}>Back</button>
      </div>
    </main>
  );
}
