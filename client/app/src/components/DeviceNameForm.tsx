import type { Ref } from 'preact';
import { useState } from 'preact/hooks';
import { describeError } from '../model/describe-error.js';
import { deviceNameProblem, MAX_DEVICE_NAME } from '../model/device-name.js';
import { ErrorText } from './ErrorText.js';
import { useFocus } from './use-focus.js';

/** The name field alone (on the link screen it is saved by linking, not by a button of its own). */
export function DeviceNameInput({ id, value, onInput, disabled, inputRef, label = 'Device name', hidden = true }: {
  id: string;
  value: string;
  onInput: (value: string) => void;
  disabled?: boolean;
  inputRef?: Ref<HTMLInputElement>;
  label?: string;
  /** Whether the label is for screen readers only (a row that already says what it is). */
  hidden?: boolean;
}) {
  return (
    <>
      <label for={id} class={hidden ? 'visually-hidden' : undefined}>{label}</label>
      <input
        id={id}
        ref={inputRef}
        maxLength={MAX_DEVICE_NAME}
        autoComplete="off"
        placeholder="e.g. Work laptop"
        value={value}
        onInput={(e) => onInput(e.currentTarget.value)}
        disabled={disabled}
      />
    </>
  );
}

/**
 * Renaming one of the account's devices: the name is sent, end-to-end encrypted, to the
 * account's other devices only. Escape cancels.
 */
export function DeviceNameForm({ id, initial, onSave, onCancel }: {
  id: string;
  initial: string;
  onSave: (name: string) => Promise<void>;
  onCancel: () => void;
}) {
  const [name, setName] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const inputRef = useFocus<HTMLInputElement>();

  const submit = async (event: Event) => {
    event.preventDefault();
    const problem = deviceNameProblem(name);
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      await onSave(name);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  return (
    <form
      class="device-rename stack"
      onSubmit={(event) => void submit(event)}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && !busy) {
          event.stopPropagation();
          onCancel();
        }
      }}
    >
      <div class="row">
        <DeviceNameInput id={id} value={name} onInput={setName} disabled={busy} inputRef={inputRef} />
        <button type="submit" class="primary" disabled={busy || !name.trim()}>Save name</button>
        <button type="button" disabled={busy} onClick={onCancel}>Cancel</button>
      </div>
      <ErrorText error={error} />
    </form>
  );
}
