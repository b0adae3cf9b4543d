import { useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { askNotificationPermission, notificationPermission } from '../model/notifications.js';
import type { Navigate } from '../route.js';
import { ConnectionStatus } from './ConnectionStatus.js';

export function TopBar({ model, navigate }: { model: AppModel; navigate: Navigate }) {
  const [permission, setPermission] = useState(notificationPermission());
  return (
    <header class="topbar">
      <span class="brand">Sealpost</span>
      <span class="me" title="Your handle">@{model.handle}</span>
      <ConnectionStatus state={model.connection} reason={model.connectionReason} />
      <nav class="topnav" aria-label="Account">
        {permission === 'default' && (
          <button type="button" class="link" onClick={() => void askNotificationPermission().then(setPermission)}>
            Enable notifications
          </button>
        )}
        {model.devices.hasAuthority && model.devices.recoveryKeySeenAt() === undefined && (
          <button type="button" class="link warning-link" onClick={() => navigate({ screen: 'devices' })}>Write down your recovery key</button>
        )}
        <button type="button" class="link" onClick={() => navigate({ screen: 'devices' })}>Devices</button>
      </nav>
    </header>
  );
}
