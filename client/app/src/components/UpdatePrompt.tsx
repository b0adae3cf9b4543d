import '../app-version.css';
import { useAppVersion } from './use-app-version.js';

/**
 * "This relay offers a different version of the app": shown while the relay serves a bundle
 * other than the one this browser pinned. The pinned one keeps running until the user agrees.
 */
export function UpdatePrompt() {
  const version = useAppVersion();
  if (!version?.offering) return null;
  const { offer, pinned, busy, error } = version.state;
  return (
    <section class="update-prompt" role="region" aria-label="App update">
      <p>
        {offer ? (
          <>This relay offers a different version of the app (version {offer.version}, hash <code class="hash">{offer.hash}</code>) — update?</>
        ) : (
          <>This relay offers a different version of the app (a new service worker that its version list does not name) — update?</>
        )}
      </p>
      {pinned && (
        <p class="hint">
          You are running version {pinned.version}, hash <code class="hash">{pinned.hash}</code>, pinned by this browser. Compare the new hash with a build
          from source before you agree (docs/verify-client.md).
        </p>
      )}
      {error && <p class="error-text" role="alert">{error}</p>}
      <div class="update-actions">
        <button type="button" class="primary" disabled={busy} onClick={() => void version.agree()}>{busy ? 'Updating…' : 'Update'}</button>
        <button type="button" disabled={busy} onClick={() => version.dismiss()}>Not now</button>
      </div>
    </section>
  );
}
