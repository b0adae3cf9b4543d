import { useState } from 'preact/hooks';
import '../app-version.css';
import { BUILT_VERSION } from '../model/app-version.js';
import { useAppVersion } from './use-app-version.js';

/** "About this app": the running version and the bundle hash this browser pinned, to compare with a build from source. */
export function AboutApp() {
  const version = useAppVersion();
  const [checking, setChecking] = useState(false);
  const state = version?.state;
  const check = () => {
    setChecking(true);
    void version?.check().catch(() => undefined).finally(() => setChecking(false));
  };
  return (
    <details class="about-app">
      <summary>About this app</summary>
      <dl>
        <dt>Version</dt>
        <dd data-testid="app-version">{state?.pinned?.version ?? BUILT_VERSION}</dd>
        <dt>Bundle hash</dt>
        <dd><code class="hash" data-testid="bundle-hash">{state?.pinned?.hash ?? 'not pinned'}</code></dd>
      </dl>
      {!state?.supported && (
        <p class="hint">This browser gives the app no service worker (a private window, or a relay without HTTPS): nothing is pinned, and every load runs what the relay serves.</p>
      )}
      {state?.supported && state.pinned && (
        <p class="hint">
          {state.controlled
            ? 'This browser keeps this bundle and runs it until you agree to another one.'
            : 'This page came straight from the relay; from the next load on, this browser runs the pinned bundle.'}{' '}
          To check the hash against a build from source, see docs/verify-client.md in Sealpost’s source.
        </p>
      )}
      {state?.checked && <p class="hint" role="status">{state.checked}</p>}
      {state?.error && <p class="error-text">{state.error}</p>}
      {state?.supported && <button type="button" disabled={checking} onClick={check}>{checking ? 'Checking…' : 'Check for a new version'}</button>}
    </details>
  );
}
