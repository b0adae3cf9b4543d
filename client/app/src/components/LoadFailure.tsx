import { useState } from 'preact/hooks';
import { SdkError } from '../../../sdk/index.js';
import { eraseLocalData } from '../model/local-data.js';
import { describeError } from '../model/describe-error.js';
import { useFocus } from './use-focus.js';

/**
 * The app could not open this browser's profile. A profile from an older protocol version can
 * only be erased (after a confirmation); anything else is most likely a browser that blocks
 * IndexedDB or WebAssembly.
 */
export function LoadFailure({ error }: { error: unknown }) {
  const [confirming, setConfirming] = useState(false);
  const focusRef = useFocus<HTMLButtonElement>(confirming);
  const oldProfile = error instanceof SdkError && error.code === 'unsupported_version';
  return (
    <main class="welcome">
      <div class="card">
        <h1 class="brand">Sealpost</h1>
        <p class="error-text" role="alert">Could not start: {describeError(error)}</p>
        {!oldProfile && <p class="hint">This browser needs IndexedDB and WebAssembly. Private windows of some browsers block them.</p>}
        {oldProfile && !confirming && (
          <button type="button" class="danger" ref={focusRef} onClick={() => setConfirming(true)}>Erase the old data</button>
        )}
        {oldProfile && confirming && (
          <div class="erase-warning stack">
            <p>Erase this browser’s old Sealpost keys and messages for good? You can then register again, link this browser to your account, or recover it with its recovery key.</p>
            <div class="row wrap">
              <button type="button" class="danger" ref={focusRef} onClick={() => void eraseLocalData()}>Erase for good</button>
              <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
            </div>
          </div>
        )}
      </div>
    </main>
  );
}
