/**
 * Browser notifications for messages that arrive while the tab is hidden, only once the user
 * allowed them, as much as their preview choice shows and not while muted. The text goes in as
 * a plain notification body, never as markup. And, below,
 * notifications while the app is closed (Web Push), which never show any message content.
 */
import { SdkError, disablePush, enablePush, fetchPushKey, type SealpostClient } from '../../../sdk/index.js';
import { describeError } from './describe-error.js';

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

// ── The user's choices, kept in this browser only (never sent anywhere) ───────────────────

/** How much a notification shows: sender and text, the sender only, or nothing but "New message". */
export type NotificationPreview = 'full' | 'sender' | 'none';

export interface NotificationPrefs {
  preview: NotificationPreview;
  /** No notifications at all from this tab (the tab title still counts unread messages). */
  muted: boolean;
}

const PREFS_KEY = 'sealpost.notifications.v1';
const DEFAULT_PREFS: NotificationPrefs = { preview: 'full', muted: false };

export function notificationPrefs(storage: Storage | undefined = globalThis.localStorage): NotificationPrefs {
  try {
    const saved = JSON.parse(storage?.getItem(PREFS_KEY) ?? 'null') as Partial<NotificationPrefs> | null;
    const preview = saved?.preview === 'sender' || saved?.preview === 'none' ? saved.preview : 'full';
    return { preview, muted: saved?.muted === true };
  } catch {
    return { ...DEFAULT_PREFS };
  }
}

/** Erasing this device's data forgets the choices too. */
export function eraseNotificationPrefs(storage: Storage | undefined = globalThis.localStorage): void {
  storage?.removeItem(PREFS_KEY);
}

export function saveNotificationPrefs(prefs: NotificationPrefs, storage: Storage | undefined = globalThis.localStorage): void {
  storage?.setItem(PREFS_KEY, JSON.stringify(prefs));
}

/** What a notification about a message says, as far as the user's preview choice allows. */
export function notificationContent(preview: NotificationPreview, title: string, from: string, text: string): { title: string; body: string } {
  if (preview === 'none') return { title: 'Sealpost', body: 'New message' };
  if (preview === 'sender') return { title: `Sealpost · ${title}`, body: title === from ? 'New message' : `New message from ${from}` };
  return { title: `Sealpost · ${title}`, body: (title === from ? text : `${from}: ${text}`).slice(0, 200) };
}

/** The tab title: "(3) Sealpost" while 3 messages are unread, else "Sealpost". */
export function unreadTitle(unread: number): string {
  return unread > 0 ? `(${unread}) Sealpost` : 'Sealpost';
}

export function showMessageNotification(title: string, from: string, text: string, tag: string): void {
  if (!notificationsSupported() || Notification.permission !== 'granted' || document.visibilityState !== 'hidden') return;
  const prefs = notificationPrefs();
  if (prefs.muted) return;
  const content = notificationContent(prefs.preview, title, from, text);
  // With no preview the conversation is not named either: one tag, so they replace each other.
  const notification = new Notification(content.title, { body: content.body, tag: prefs.preview === 'none' ? 'sealpost-message' : tag });
  notification.onclick = () => {
    window.focus();
    notification.close();
  };
}

// ── Notifications when Sealpost is closed (Web Push) ────────────────────────────────────────
// The relay pushes a content-free "something arrived" while none of this device's sockets is
// connected; the service worker (public/sw.js) shows "New message". Needs the Push API and a
// service worker (not every browser has them: iOS Safari only in a home-screen app).

/** The service worker's URL, relative to the page (the build copies public/sw.js beside index.html). */
const WORKER_URL = './sw.js';

export function closedNotificationsSupported(): boolean {
  return notificationsSupported() && 'serviceWorker' in navigator && typeof PushManager !== 'undefined';
}

/** Whether this browser holds a push subscription for the app (then the relay has it too, as far as we know). */
export async function closedNotificationsOn(): Promise<boolean> {
  if (!closedNotificationsSupported()) return false;
  const registration = await navigator.serviceWorker.getRegistration();
  return (await registration?.pushManager.getSubscription()) != null;
}

/**
 * Must run from a user gesture (subscribing may ask for the notification permission). Registers
 * the worker, subscribes with the relay's VAPID key (a subscription made for another key is
 * replaced) and registers the subscription with the relay, signed by this device.
 */
export async function enableClosedNotifications(client: SealpostClient, relayUrl: string): Promise<void> {
  const registration = await navigator.serviceWorker.register(WORKER_URL);
  await navigator.serviceWorker.ready;
  const key = await fetchPushKey(relayUrl);
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameBytes(subscription.options.applicationServerKey, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key as Uint8Array<ArrayBuffer> });
  await enablePush(client, subscription);
}

/**
 * Hands the browser's current subscription to the relay again (on every start while push is
 * on): a browser may renew a subscription on its own, and only the app, which holds the device
 * key, can tell the relay (the worker cannot sign). The PUT replaces whatever the relay had.
 */
export async function refreshClosedNotifications(client: SealpostClient): Promise<void> {
  const subscription = await (await navigator.serviceWorker.getRegistration())?.pushManager.getSubscription();
  if (subscription) await enablePush(client, subscription);
}

/** The relay forgets the subscription first (so it stops pushing), then the browser drops it. */
export async function disableClosedNotifications(client: SealpostClient): Promise<void> {
  const registration = await navigator.serviceWorker.getRegistration();
  await disablePush(client);
  await (await registration?.pushManager.getSubscription())?.unsubscribe();
}

/** A sentence for what went wrong while turning closed-app notifications on or off. */
export function describePushError(error: unknown): string {
  if (error instanceof SdkError && error.details.relayCode === 'not_found') return 'This relay does not send notifications while the app is closed.';
  if (error instanceof DOMException && error.name === 'NotAllowedError') return 'Notifications are blocked for this site in the browser settings.';
  if (error instanceof DOMException) return 'The browser could not subscribe to push messages right now.';
  return describeError(error);
}

function sameBytes(a: ArrayBuffer | null, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.byteLength) return false;
  const view = new Uint8Array(a);
  return view.every((byte, i) => byte === b[i]);
}
