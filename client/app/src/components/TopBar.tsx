import { useEffect, useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import {
  askNotificationPermission, closedNotificationsOn, closedNotificationsSupported, describePushError, disableClosedNotifications,
  enableClosedNotifications, notificationPermission, refreshClosedNotifications,
} from '../model/notifications.js';
import type { Navigate } from '../route.js';
import { ConnectionStatus } from './ConnectionStatus.js';

export function TopBar({ model, navigate }: { model: AppModel; navigate: Navigate }) {
  const [permission, setPermission] = useState(notificationPermission());
  // Closed-app notifications (Web Push): unknown until the browser said whether it holds a subscription.
  const [pushOn, setPushOn] = useState<boolean | undefined>(undefined);
  const [pushBusy, setPushBusy] = useState(false);
  const [pushError, setPushError] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!closedNotificationsSupported()) return;
    void closedNotificationsOn().then(
      (on) => {
        setPushOn(on);
        // Best effort: a failure here leaves the relay with the subscription it had.
        if (on) void refreshClosedNotifications(model.client).catch(() => undefined);
      },
      () => setPushOn(false),
    );
  }, []);
  const switchPush = (on: boolean) => {
    setPushBusy(true);
    setPushError(undefined);
    const work = on ? enableClosedNotifications(model.client, model.relayUrl) : disableClosedNotifications(model.client);
    void work
      .then(() => setPushOn(on), (error: unknown) => setPushError(describePushError(error)))
      .finally(() => {
        setPushBusy(false);
        setPermission(notificationPermission());
      });
  };
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
        {/* Offered once notifications are allowed, in the place "Enable notifications" held. */}
        {pushOn === false && permission === 'granted' && (
          <button type="button" class="link" disabled={pushBusy} onClick={() => switchPush(true)}>
            Notify me when Sealpost is closed
          </button>
        )}
        {pushOn === true && (
          <button type="button" class="link" disabled={pushBusy} onClick={() => switchPush(false)} title="Notifications while Sealpost is closed are on">
            Stop notifying when closed
          </button>
        )}
        {pushError && <span class="push-error" role="status">{pushError}</span>}
        {model.devices.hasAuthority && model.devices.recoveryKeySeenAt() === undefined && (
          <button type="button" class="link warning-link" onClick={() => navigate({ screen: 'devices' })}>Write down your recovery key</button>
        )}
        <button type="button" class="link" onClick={() => navigate({ screen: 'devices' })}>Devices</button>
      </nav>
    </header>
  );
}
