import { useEffect, useRef, useState } from 'preact/hooks';
import { SdkError, type PendingLink } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import { expiryText, shownLinkCode } from '../model/link-code.js';
import { LINK_CODE_LIFETIME_MS } from '../model/own-devices.js';
import { CopyButton } from './CopyButton.js';
import { DeviceNameInput } from './DeviceNameForm.js';
import { ErrorText } from './ErrorText.js';
import { QrImage } from './QrImage.js';
import { useFocus } from './use-focus.js';

interface Shown {
  link: PendingLink;
  /** The typed form: what is shown, copied and put in the QR code. */
  code: string;
  expiresAt: number;
}

/** How often "in 9 minutes" is brought up to date. */
const TICK_MS = 5_000;

/** The current time, updated every `everyMs` while `active`. */
function useNow(everyMs: number, active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs, active]);
  return now;
}

/**
 * On a NEW device: shows a link code (with a copy button and a QR code) to enter or scan on the
 * device that created the account, and when it expires. The user can name this device meanwhile;
 * the name is set once the link is done. Once the code expired the user can ask for a new one.
 */
export function LinkThisDevice({ model, onCancel }: { model: AppModel; onCancel: () => void }) {
  const [attempt, setAttempt] = useState(0);
  const [shown, setShown] = useState<Shown | undefined>(undefined);
  const [expired, setExpired] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [name, setName] = useState(() => model.devices.suggestedName());
  // Read when the link completes, so a name typed while waiting is the one used.
  const nameRef = useRef(name);
  nameRef.current = name;
  const focusRef = useFocus<HTMLButtonElement>(`${shown?.code}:${expired}`);
  const now = useNow(TICK_MS, shown !== undefined && !expired);

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
    setShown({ link, code: shownLinkCode(link.code), expiresAt: Date.now() + LINK_CODE_LIFETIME_MS });
    model.finishLink(link, () => nameRef.current).catch((err: unknown) => {
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
          On the device that created your account, open <strong>Devices</strong>, then scan this QR code or enter the code below.
        </p>
        {shown && !expired && (
          <>
            <QrImage text={shown.code} label="Link code as a QR code" />
            <label for="link-code-output">Link code</label>
            <output id="link-code-output" class="code link-code" data-testid="link-code">{shown.code}</output>
            <div class="row">
              <CopyButton text={shown.code} label="Copy code" buttonRef={focusRef} />
            </div>
            <p class="hint" data-testid="link-code-expiry">
              This code {expiryText(shown.expiresAt, now)}. Capitals, spaces and dashes do not matter when typing it.
            </p>
            <div class="stack link-name">
              <DeviceNameInput id="link-device-name" label="Name for this device" hidden={false} value={name} onInput={setName} />
              <p class="hint">Only your own devices see this name.</p>
            </div>
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
