/**
 * Browser notifications for messages that arrive while the tab is hidden, only once the user
 * allowed them. The text goes in as a plain notification body, never as markup.
 */

export function notificationsSupported(): boolean {
  return typeof Notification !== 'undefined';
}

export function notificationPermission(): NotificationPermission | 'unsupported' {
  return notificationsSupported() ? Notification.permission : 'unsupported';
}

/** Must run from a user gesture (a click), as browsers require. */
export async function askNotificationPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (!notificationsSupported()) return 'unsupported';
  return Notification.requestPermission();
}

export function showMessageNotification(title: string, from: string, text: string, tag: string): void {
  if (!notificationsSupported() || Notification.permission !== 'granted' || document.visibilityState !== 'hidden') return;
  const body = title === from ? text : `${from}: ${text}`;
  const notification = new Notification(`Sealpost · ${title}`, { body: body.slice(0, 200), tag });
  notification.onclick = () => {
    window.focus();
    notification.close();
  };
}
