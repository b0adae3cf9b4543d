import { useRef, useState } from 'preact/hooks';
import type { OwnDevice } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import { DeviceNameForm } from './DeviceNameForm.js';
import { ErrorText } from './ErrorText.js';
import { useFocus } from './use-focus.js';

type Mode = 'view' | 'rename' | 'remove';

/**
 * One of this account's devices: its name first (or "Unnamed device" and a short id), the id and
 * when it was added as small secondary text, rename (any own device can name any own device) and
 * remove (authority device only, after a confirmation).
 */
export function DeviceRow({ model, device }: { model: AppModel; device: OwnDevice }) {
  const [mode, setMode] = useState<Mode>('view');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const focusRef = useFocus<HTMLButtonElement>(mode);
  const renameRef = useRef<HTMLButtonElement>(null);
  const label = model.devices.labelOf(device.deviceId);
  const named = model.devices.nameOf(device.deviceId) !== undefined;
  const canRemove = model.devices.hasAuthority && !device.current;

  const remove = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await model.devices.remove(device.deviceId);
      setMode('view');
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  // Back from renaming or removing, focus returns to the row's Rename button, not to the page.
  const backToView = () => {
    setMode('view');
    setTimeout(() => renameRef.current?.focus(), 0);
  };

  return (
    <li data-device-id={device.deviceId} data-current={device.current ? 'true' : undefined}>
      <div class="device-main">
        <span class="device-name">{label}</span>
        {device.current && <span class="badge">This device</span>}
        <span class="hint device-meta" title={device.deviceId} data-testid="device-meta">
          {named && <>id {device.deviceId.slice(0, 8)}… · </>}added {new Date(device.createdAt).toLocaleString()}
        </span>
      </div>
      {mode === 'view' && (
        <div class="device-actions">
          <button type="button" class="link" ref={renameRef} aria-label={`Rename ${label}`} onClick={() => setMode('rename')}>
            Rename
          </button>
          {canRemove && (
            <button type="button" class="link danger" aria-label={`Remove ${label}`} onClick={() => setMode('remove')}>Remove</button>
          )}
        </div>
      )}
      {mode === 'rename' && (
        <DeviceNameForm
          id={`device-name-${device.deviceId}`}
          initial={model.devices.nameOf(device.deviceId) ?? (device.current ? model.devices.suggestedName() : '')}
          onSave={async (name) => {
            await model.devices.rename(device.deviceId, name);
            backToView();
          }}
          onCancel={backToView}
        />
      )}
      {mode === 'remove' && (
        <div class="device-confirm" role="group" aria-label={`Remove ${label}?`}>
          <p>Remove “{label}”? It stops receiving messages for this account at once and cannot send as you any more.</p>
          <div class="row">
            <button type="button" class="danger" ref={focusRef} disabled={busy} onClick={() => void remove()}>
              Remove device
            </button>
            <button type="button" disabled={busy} onClick={backToView}>Cancel</button>
          </div>
        </div>
      )}
      <ErrorText error={error} />
    </li>
  );
}
