import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { notificationPermission, notificationPrefs, unreadTitle } from '../model/notifications.js';
import type { Navigate } from '../route.js';
import { ConnectionStatus } from './ConnectionStatus.js';
import { NotificationSettings, useRefreshPush } from './NotificationSettings.js';

export function TopBar({ model, navigate }: { model: AppModel; navigate: Navigate }) {
  const [settingsOpen, setSettingsOpen] = useState(false);
  // Redrawn when the settings change what the button says (muted, blocked).
  const [, setSettingsVersion] = useState(0);
  const muted = notificationPrefs().muted;
  useRefreshPush(model);
  // The tab title counts unread messages, so a background tab shows that something arrived.
  const unread = model.conversations().reduce((sum, summary) => sum + summary.unread, 0);
  useEffect(() => {
    document.title = unreadTitle(unread);
  }, [unread]);
  // A layout effect: the listener must come and go with the panel itself. A plain effect runs a
  // frame later, so an Escape pressed just after the panel appeared went to the screen under it,
  // and one pressed just after it closed was still swallowed here (seen in CI on a loaded machine).
  useLayoutEffect(() => {
    if (!settingsOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      event.preventDefault(); // closes this panel only, not also the screen under it (Shell's Escape)
      setSettingsOpen(false);
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [settingsOpen]);

  return (
    <header class="topbar">
      <span class="brand">Sealpost</span>
      <span class="me" title="Your handle">@{model.handle}</span>
      <ConnectionStatus state={model.connection} everConnected={model.everConnected} reason={model.connectionReason} />
      <nav class="topnav" aria-label="Account">
        <button type="button" class="link" aria-expanded={settingsOpen} aria-controls="notification-settings" onClick={() => setSettingsOpen(!settingsOpen)}>
          {/* Blocked or muted shows without opening the settings (a blocked site cannot even ask). */}
          {notificationPermission() === 'denied' ? 'Notifications (blocked)' : muted ? 'Notifications (muted)' : 'Notifications'}
        </button>
        {model.devices.hasAuthority && model.devices.recoveryKeySeenAt() === undefined && (
          <button type="button" class="link warning-link" onClick={() => navigate({ screen: 'devices' })}>Write down your recovery key</button>
        )}
        <button type="button" class="link" onClick={() => navigate({ screen: 'devices' })}>Devices</button>
      </nav>
      {settingsOpen && <NotificationSettings model={model} onChange={() => setSettingsVersion((v) => v + 1)} />}
    </header>
  );
}
