import { useEffect, useState } from 'preact/hooks';
import type { OwnDevice } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import { DeviceRow } from './DeviceRow.js';
import { EraseSection } from './EraseSection.js';
import { ErrorText } from './ErrorText.js';
import { LinkApproveForm } from './LinkApproveForm.js';
import { RecoveryKeySection } from './RecoveryKeySection.js';
import { useFocus } from './use-focus.js';

/** This account's devices (verified like a contact's): names, linking, the recovery key, erasing. */
export function DevicesScreen({ model, onBack }: { model: AppModel; onBack: () => void }) {
  const [devices, setDevices] = useState<OwnDevice[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [recoveryKey, setRecoveryKey] = useState<string | undefined>(undefined);
  const headingRef = useFocus<HTMLHeadingElement>();
  const revision = model.devices.revision;

  useEffect(() => {
    let live = true;
    model.devices.list().then(
      (rows) => {
        if (!live) return;
        setDevices(rows);
        setError(undefined);
      },
      (err: unknown) => live && setError(describeError(err)),
    );
    return () => {
      live = false;
    };
  }, [model, revision]);

  const showRecoveryKey = () => {
    try {
      setRecoveryKey(model.devices.recoveryKey());
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section class="screen" aria-label="Devices">
      <header class="pane-header">
        <button type="button" class="back always" onClick={onBack} aria-label="Back to conversations">‹</button>
        <h2 ref={headingRef} tabIndex={-1}>Devices</h2>
      </header>
      <div class="screen-body">
        <p class="hint">Every device here can read the messages sent to you from now on. Names are shared only among your own devices.</p>
        <ErrorText error={error} />
        {!devices && !error && <p class="hint">Looking up your devices…</p>}
        {devices && (
          <ul class="devices" aria-label="Your devices">
            {devices.map((d) => <DeviceRow key={d.deviceId} model={model} device={d} />)}
          </ul>
        )}
        <LinkApproveForm model={model} />
        {model.devices.hasAuthority && (
          <RecoveryKeySection model={model} recoveryKey={recoveryKey} onShow={showRecoveryKey} onHide={() => setRecoveryKey(undefined)} />
        )}
        <EraseSection model={model} deviceCount={devices?.length ?? model.devices.knownCount()} onShowRecoveryKey={showRecoveryKey} />
      </div>
    </section>
  );
}
