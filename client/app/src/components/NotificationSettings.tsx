import { useEffect, useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import {
  askNotificationPermission, closedNotificationsOn, closedNotificationsSupported, describePushError, disableClosedNotifications,
  enableClosedNotifications, notificationPermission, notificationPrefs, refreshClosedNotifications, saveNotificationPrefs,
  type NotificationPreview, type NotificationPrefs,
} from '../model/notifications.js';

const PREVIEWS: Array<{ value: NotificationPreview; label: string }> = [
  { value: 'full', label: 'Sender and message' },
  { value: 'sender', label: 'Sender only' },
  { value: 'none', label: 'Nothing but “New message”' },
];

/** What the browser allows, in words; when blocked, where to change it (the app cannot ask again). */
function PermissionLine({ permission, onAsk }: { permission: ReturnType<typeof notificationPermission>; onAsk: () => void }) {
  if (permission === 'unsupported') return <p class="hint">This browser cannot show notifications.</p>;
  if (permission === 'denied') {
    return (
      <p class="warning-text notifications-blocked" role="status">
        Notifications are blocked for Sealpost in this browser. To allow them, open the site settings (the icon left of the
        address), set Notifications to Allow, then reload Sealpost.
      </p>
    );
  }
  if (permission === 'default') {
    return (
      <div class="row wrap">
        <p class="hint">Sealpost can tell you about new messages while its tab is in the background.</p>
        <button type="button" onClick={onAsk}>Enable notifications</button>
      </div>
    );
  }
  return <p class="hint">Notifications are allowed while Sealpost is open in a tab.</p>;
}

/**
 * The notification choices: permission, how much a notification shows, mute (both kept in this
 * browser only), and notifications while Sealpost is closed (Web Push, never any content).
 */
export function NotificationSettings({ model, onChange }: { model: AppModel; onChange: () => void }) {
  const [permission, setPermission] = useState(notificationPermission());
  const [prefs, setPrefs] = useState(notificationPrefs);
  // Closed-app notifications (Web Push): unknown until the browser said whether it holds a subscription.
  const [pushOn, setPushOn] = useState<boolean | undefined>(undefined);
  const [pushBusy, setPushBusy] = useState(false);
  const [pushError, setPushError] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!closedNotificationsSupported()) return;
    void closedNotificationsOn().then((on) => setPushOn(on), () => setPushOn(false));
  }, []);
  const change = (next: NotificationPrefs) => {
    saveNotificationPrefs(next);
    setPrefs(next);
    onChange();
  };
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
    <section id="notification-settings" class="notification-settings stack" aria-label="Notification settings">
      <PermissionLine
        permission={permission}
        onAsk={() => void askNotificationPermission().then((answer) => {
          setPermission(answer);
          onChange();
        })}
      />
      <fieldset class="previews">
        <legend>A notification shows</legend>
        {PREVIEWS.map((option) => (
          <label key={option.value}>
            <input type="radio" name="notification-preview" value={option.value} checked={prefs.preview === option.value} onChange={() => change({ ...prefs, preview: option.value })} />
            {option.label}
          </label>
        ))}
      </fieldset>
      <label>
        <input type="checkbox" checked={prefs.muted} onChange={(event) => change({ ...prefs, muted: event.currentTarget.checked })} />
        Mute notifications on this device
      </label>
      {/* Offered once notifications are allowed. */}
      {pushOn === false && permission === 'granted' && (
        <button type="button" disabled={pushBusy} onClick={() => switchPush(true)}>Notify me when Sealpost is closed</button>
      )}
      {pushOn === true && (
        <button type="button" disabled={pushBusy} onClick={() => switchPush(false)} title="Notifications while Sealpost is closed are on">Stop notifying when closed</button>
      )}
      {pushError && <p class="push-error error-text" role="status">{pushError}</p>}
    </section>
  );
}

/** On every start while push is on, hands the browser's subscription to the relay again (see notifications.ts). */
export function useRefreshPush(model: AppModel): void {
  useEffect(() => {
    if (!closedNotificationsSupported()) return;
    // Best effort: a failure here leaves the relay with the subscription it had.
    void closedNotificationsOn().then((on) => (on ? refreshClosedNotifications(model.client) : undefined)).catch(() => undefined);
  }, []);
}
