import { useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { useFocus } from './use-focus.js';

type Step = 'idle' | 'warn' | 'confirm';

/**
 * Erasing this browser's keys and history. When this device holds the account authority, a
 * warning comes first (the only device: the handle is lost for good without the recovery key;
 * others left: nobody can add or remove devices any more), with a way to show the key; the
 * erase itself always needs one more explicit click.
 */
export function EraseSection({ model, deviceCount, onShowRecoveryKey }: { model: AppModel; deviceCount: number; onShowRecoveryKey: () => void }) {
  const [step, setStep] = useState<Step>('idle');
  const [busy, setBusy] = useState(false);
  const focusRef = useFocus<HTMLDivElement>(step);
  const authority = model.devices.hasAuthority;
  const onlyDevice = deviceCount <= 1;

  const erase = () => {
    setBusy(true);
    void model.eraseThisDevice();
  };

  return (
    <section class="stack erase" aria-labelledby="erase-heading">
      <h3 id="erase-heading">Erase this device</h3>
      <p class="hint">
        Erasing deletes this device’s keys and message history from this browser.
        {!authority && ' Ask the device that created the account to remove it from the list above first, so no messages wait for it.'}
      </p>
      {step === 'idle' && (
        <button type="button" class="danger" onClick={() => setStep(authority ? 'warn' : 'confirm')}>Erase this device</button>
      )}
      {step === 'warn' && (
        <div class="erase-warning stack" role="alert" ref={focusRef} tabIndex={-1} data-testid="erase-warning">
          {onlyDevice ? (
            <p>
              <strong>This is the only device of @{model.handle}.</strong> Unless you have written down the recovery key, erasing it
              loses the handle “{model.handle}” for good: nobody — not you, not the relay’s operator — can get it back.
            </p>
          ) : (
            <p>
              <strong>This device holds your account’s authority:</strong> it alone can link and remove devices. Your other devices keep
              working after it is erased, but no device can be linked or removed again unless you recover the account with the
              recovery key.
            </p>
          )}
          <div class="row wrap">
            <button type="button" onClick={onShowRecoveryKey}>Show recovery key</button>
            <button type="button" class="danger" onClick={() => setStep('confirm')}>I have the recovery key, continue</button>
            <button type="button" onClick={() => setStep('idle')}>Cancel</button>
          </div>
        </div>
      )}
      {step === 'confirm' && (
        <div class="erase-warning stack" role="group" aria-label="Confirm erasing" ref={focusRef} tabIndex={-1}>
          <p>Erase this device’s keys and message history from this browser for good? This cannot be undone.</p>
          <div class="row wrap">
            <button type="button" class="danger" disabled={busy} onClick={erase}>Erase for good</button>
            <button type="button" disabled={busy} onClick={() => setStep('idle')}>Cancel</button>
          </div>
        </div>
      )}
    </section>
  );
}
