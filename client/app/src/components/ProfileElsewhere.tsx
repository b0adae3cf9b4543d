import { useState } from 'preact/hooks';
import { useFocus } from './use-focus.js';

/**
 * This tab does not hold the profile: another tab had it open when this one loaded ('open'), or
 * took it from this one ('moved'; this tab's client is already closed). "Use here" takes it.
 */
export function ProfileElsewhere({ reason, onUseHere }: { reason: 'open' | 'moved'; onUseHere: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const focusRef = useFocus<HTMLButtonElement>(reason);
  const useHere = async () => {
    setBusy(true);
    await onUseHere();
  };
  return (
    <main class="welcome">
      <div class="card profile-elsewhere" data-reason={reason}>
        <h1 class="brand">Sealpost</h1>
        <h2 id="profile-elsewhere-title">{reason === 'open' ? 'Sealpost is open in another tab' : 'Sealpost was opened in another tab'}</h2>
        <p class="lede" id="profile-elsewhere-text">
          {reason === 'open'
            ? 'Your keys and messages can be used in one tab at a time, so this tab has not opened them.'
            : 'This tab stopped: it no longer sends or receives. Your messages carry on in the other tab.'}
        </p>
        <p class="hint">“Use here” moves Sealpost to this tab; the other tab stops. Nothing is lost: messages waiting to go out, or to come in, continue here.</p>
        {/* Focus lands here: the heading and the explanation are read with it. */}
        <button type="button" class="primary" ref={focusRef} disabled={busy} aria-describedby="profile-elsewhere-title profile-elsewhere-text" onClick={() => void useHere()}>
          {busy ? 'Opening here…' : 'Use here'}
        </button>
      </div>
    </main>
  );
}
