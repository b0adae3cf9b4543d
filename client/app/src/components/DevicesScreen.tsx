import { useEffect, useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import { ErrorText } from './ErrorText.js';
import { LinkApproveForm } from './LinkApproveForm.js';

type DeviceRow = { deviceId: string; createdAt: number; current: boolean };

/** This account's devices (verified like a contact's), with remove, and linking a new one. */
export function DevicesScreen({ model, onBack }: { model: AppModel; onBack: () => void }) {
  const [devices, setDevices] = useState<DeviceRow[] | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    let live = true;
    model.client.devices().then(
      (rows) => live && setDevices(rows),
      (err: unknown) => live && setError(describeError(err)),
    );
    return () => {
      live = false;
    };
  }, [model, reload]);

  const remove = async (deviceId: string) => {
    if (!confirm('Remove this device? It will stop receiving messages for this account.')) return;
    try {
      await model.client.removeDevice(deviceId);
      setReload((n) => n + 1);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section class="screen" aria-label="Devices">
      <header class="pane-header">
        <button type="button" class="back always" onClick={onBack} aria-label="Back to conversations">‹</button>
        <h2>Devices</h2>
      </header>
      <div class="screen-body">
        <ErrorText error={error} />
        {!devices && !error && <p class="hint">Looking up your devices…</p>}
        {devices && (
          <ul class="devices">
            {devices.map((d) => (
              <li key={d.deviceId}>
                <span class="device-id" title={d.deviceId}>{d.deviceId.slice(0, 12)}…</span>
                <span class="hint">added {new Date(d.createdAt).toLocaleString()}</span>
                {d.current ? <span class="badge">this device</span> : (
                  <button type="button" class="link danger" onClick={() => void remove(d.deviceId)}>Remove</button>
                )}
              </li>
            ))}
          </ul>
        )}
        <LinkApproveForm model={model} onLinked={() => setReload((n) => n + 1)} />
        <div class="stack erase">
          <h3>This device</h3>
          <p class="hint">Erasing deletes this device’s keys and history from this browser. Remove it from the list above first (from another device) so no messages wait for it.</p>
          <button type="button" class="danger" onClick={() => confirm('Erase this device’s keys and history from this browser?') && void model.eraseThisDevice()}>
            Erase this device
          </button>
        </div>
      </div>
    </section>
  );
}
