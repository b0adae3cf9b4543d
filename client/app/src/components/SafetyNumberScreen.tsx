import { useEffect, useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import { loadSafety, setVerified, type SafetyView } from '../model/safety.js';
import { AcceptNewKey } from './AcceptNewKey.js';
import { ErrorText } from './ErrorText.js';
import { QrImage } from './QrImage.js';
import { useFocus } from './use-focus.js';

/**
 * The 60-digit safety number and its QR code; marking it verified after comparing. While a key
 * change is pending, the number is the NEW key's, and accepting that key needs a confirmation.
 * `onClose` goes back to where it was opened from (a group's warning, or the conversation).
 */
export function SafetyNumberScreen({ model, handle, onClose }: { model: AppModel; handle: string; onClose: () => void }) {
  const [view, setView] = useState<SafetyView | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [accepted, setAccepted] = useState(false);
  const focusRef = useFocus<HTMLHeadingElement>(`${handle}|${view?.changed}`);
  const contact = model.client.contact(handle);
  const revision = `${contact?.identityKey}|${contact?.changedIdentityKey}|${contact?.verified}`;

  useEffect(() => {
    let live = true;
    loadSafety(model.client, handle).then(
      (loaded) => live && setView(loaded),
      (err: unknown) => live && setError(describeError(err)),
    );
    return () => {
      live = false;
    };
  }, [model, handle, revision]);

  const toggle = async () => {
    if (!view) return;
    await setVerified(model.client, handle, !view.verified);
    model.changed();
  };

  return (
    <section class="screen safety" aria-label={`Safety number with ${handle}`}>
      <header class="pane-header">
        <button type="button" class="back always" onClick={onClose} aria-label="Back to the conversation">‹</button>
        <h2 ref={focusRef} tabIndex={-1}>Safety number · {handle}</h2>
      </header>
      <div class="screen-body">
        <ErrorText error={error} />
        {!view && !error && <p class="hint">Computing…</p>}
        {view && (
          <>
            {view.changed && (
              <div class="identity-warning stack" role="alert" data-testid="pending-key-warning">
                <p><strong>{handle}’s identity key changed. This is the safety number for their NEW key.</strong></p>
                <p>
                  Compare it with {handle} in person or on a call — not in a message through this relay — before you
                  accept it. If the numbers differ, do not accept: someone may be intercepting your messages.
                </p>
                <AcceptNewKey model={model} handle={handle} onAccepted={() => setAccepted(true)} />
              </div>
            )}
            {accepted && !view.changed && <p class="hint" role="status">You accepted {handle}’s new key. Sending to {handle} goes on.</p>}
            <p class="hint">Compare these 60 digits with {handle}, in person or over a call, or scan the code on their device. If they match, no one sits between you.</p>
            <p class="safety-digits" data-testid="safety-number">
              {view.digits.split(' ').map((group, i) => <span key={i}>{group}</span>)}
            </p>
            <QrImage text={view.fingerprint} label={`Safety code with ${handle} as a QR code`} />
            <p>
              {view.verified ? <span class="verified">✓ verified</span> : <span class="hint">Not verified yet.</span>}
            </p>
            {!view.changed && (
              <button type="button" class={view.verified ? '' : 'primary'} onClick={() => void toggle()}>
                {view.verified ? 'Clear verified mark' : 'Mark as verified'}
              </button>
            )}
          </>
        )}
      </div>
    </section>
  );
}
