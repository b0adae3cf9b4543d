import { useState } from 'preact/hooks';
import type { OwnDevice } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { describeError } from '../model/describe-error.js';
import { ErrorText } from './ErrorText.js';
import { useFocus } from './use-focus.js';

type Mode = 'view' | 'rename' | 'remove';

/**
 * One of this account's devices: its name (or "Unnamed device" and a short id), rename (any own
 * device can name any own device) and remove (authority device only, after a confirmation).
 */
export function DeviceRow({ model, device }: { model: AppModel; device: OwnDevice }) {
  const [mode, setMode] = useState<Mode>('view');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const focusRef = useFocus<HTMLInputElement & HTMLButtonElement>(mode);
  const label = model.devices.labelOf(device.deviceId);
  const canRemove = model.devices.hasAuthority && !device.current;

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      setMode('view');
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <li data-device-id={device.deviceId} data-current={device.current ? 'true' : undefined}>
      <div class="device-main">
        <span class="device-name">{label}</span>
        {device.current && <span class="badge">This device</span>}
        <span class="hint device-meta" title={device.deviceId}>
          added {new Date(device.createdAt).toLocaleString()}
          {model.devices.nameOf(device.deviceId) !== undefined && ` · id ${device.deviceId.slice(0, 8)}…`}
        </span>
      </div>
      {mode === 'view' && (
        <div class="device-actions">
          <button
            type="button"
            class="link"
            aria-label={`Rename ${label}`}
            onClick={() => {
              setName(model.devices.nameOf(device.deviceId) ?? '');
              setMode('rename');
            }}
          >
            Rename
          </button>
          {canRemove && (
            <button type="button" class="link danger" aria-label={`Remove ${label}`} onClick={() => setMode('remove')}>Remove</button>
          )}
        </div>
      )}
      {mode === 'rename' && (
        <form
          class="row device-rename"
          onSubmit={(event) => {
            event.preventDefault();
            void run(() => model.devices.rename(device.deviceId, name));
          }}
        >
          <label for={`device-name-${device.deviceId}`} class="visually-hidden">Device name</label>
          <input
            id={`device-name-${device.deviceId}`}
            ref={focusRef}
            maxLength={64}
            placeholder="e.g. Work laptop"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
            disabled={busy}
          />
          <button type="submit" class="primary" disabled={busy || !name.trim()}>Save name</button>
          <button type="button" disabled={busy} onClick={() => setMode('view')}>Cancel</button>
        </form>
      )}
      {mode === 'remove' && (
        <div class="device-confirm" role="group" aria-label={`Remove ${label}?`}>
          <p>Remove “{label}”? It stops receiving messages for this account at once and cannot send as you any more.</p>
          <div class="row">
            <button type="button" class="danger" ref={focusRef} disabled={busy} onClick={() => void run(() => model.devices.remove(device.deviceId))}>
              Remove device
            </button>
            <button type="button" disabled={busy} onClick={() => setMode('view')}>Cancel</button>
          </div>
        </div>
      )}
      <ErrorText error={error} />
    </li>
  );
}
