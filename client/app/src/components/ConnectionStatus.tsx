import { useEffect, useState } from 'preact/hooks';
import type { ConnectionState } from '../../../sdk/index.js';
import { connectionLabel, describeConnection } from '../model/describe-error.js';

/** The browser's own idea of whether there is a network at all (no use waiting for the relay without one). */
function useOnline(): boolean {
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const update = () => setOnline(navigator.onLine);
    window.addEventListener('online', update);
    window.addEventListener('offline', update);
    return () => {
      window.removeEventListener('online', update);
      window.removeEventListener('offline', update);
    };
  }, []);
  return online;
}

/**
 * Always visible: whether messages go out now or wait in the queue. `data-state` is the SDK's
 * state (tests wait on it); `data-network` says whether the browser has a network at all.
 */
export function ConnectionStatus({ state, everConnected, reason }: { state: ConnectionState; everConnected: boolean; reason?: string | undefined }) {
  const online = useOnline();
  const shown = online ? state : 'offline';
  return (
    <span
      class={`connection connection-${shown}`}
      role="status"
      aria-live="polite"
      data-state={state}
      data-network={online ? 'online' : 'offline'}
      // The raw reason, never shown: for bug reports and the tests' failure messages.
      data-reason={reason}
      title={describeConnection(state, everConnected, online, reason)}
    >
      <span class="dot" aria-hidden="true" />
      {connectionLabel(state, everConnected, online)}
    </span>
  );
}
