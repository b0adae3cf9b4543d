import type { ConnectionState } from '../../../sdk/index.js';

const LABELS: Record<ConnectionState, string> = { connected: 'Connected', connecting: 'Reconnecting…', offline: 'Offline' };

/** Always visible: whether messages go out now or wait in the queue. */
export function ConnectionStatus({ state, reason }: { state: ConnectionState; reason?: string | undefined }) {
  return (
    <span class={`connection connection-${state}`} role="status" aria-live="polite" data-state={state} title={reason ? `Last reason: ${reason}` : undefined}>
      <span class="dot" aria-hidden="true" />
      {LABELS[state]}
    </span>
  );
}
