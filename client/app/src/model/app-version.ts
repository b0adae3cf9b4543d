/**
 * The page's side of the pinned bundle (the worker's side and the argument are in
 * public/sw.js): registers the service worker, asks it which bundle it pinned and whether the
 * relay now offers another, and — only when the user agrees — has it switch, then reloads.
 * Nothing here decides what runs: the worker serves the pinned files whatever this page does.
 */
import { createContext } from 'preact';

/** A bundle as the worker names it: package version and the SHA-256 of its file listing. */
export interface BundleId {
  version: string;
  hash: string;
}

export interface VersionState {
  /** Whether this browser gives the app a service worker (not in private windows of some browsers, nor over plain HTTP). */
  supported: boolean;
  /** The bundle this browser pinned (undefined until the worker answered). */
  pinned?: BundleId;
  /** What the relay serves instead, when it differs from the pin. */
  offer?: BundleId;
  /** A newer service worker is waiting: the relay changed sw.js (also counted in `offer` when it lists it). */
  waitingWorker: boolean;
  /** This page came from the worker's pinned shell (false on the very first load, straight from the relay). */
  controlled: boolean;
  /** The user said "Not now" to this offer, for this page's life. */
  dismissed: boolean;
  busy: boolean;
  /** The last check's outcome in words: "Up to date", or why it failed. */
  checked?: string;
  error?: string;
}

declare const __SEALPOST_VERSION__: string | undefined;
/** The version this page's own code was built as (vite.config.ts defines it). */
export const BUILT_VERSION = typeof __SEALPOST_VERSION__ === 'string' ? __SEALPOST_VERSION__ : 'development';

/** The worker's URL, relative to the page (the build copies public/sw.js beside index.html). */
const WORKER_URL = './sw.js';
const CHECK_EVERY_MS = 60 * 60_000;
/** How long the worker may take to answer; "apply" downloads a whole bundle on a slow link. */
const ANSWER_TIMEOUT_MS = 120_000;

interface WorkerStatus {
  pinned: BundleId | null;
  offer: BundleId | null;
}

/** One request to a worker over a MessageChannel; it answers `{ ok, result | error }`. */
function ask<T>(worker: ServiceWorker, message: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => reject(new Error('The app’s service worker did not answer.')), ANSWER_TIMEOUT_MS);
    channel.port1.onmessage = (event: MessageEvent<{ ok: boolean; result?: T; error?: string }>) => {
      clearTimeout(timer);
      if (event.data.ok) resolve(event.data.result as T);
      else reject(new Error(event.data.error ?? 'The app’s service worker failed.'));
    };
    worker.postMessage(message, [channel.port2]);
  });
}

export class AppVersion {
  state: VersionState;
  private readonly listeners = new Set<() => void>();
  private registration: ServiceWorkerRegistration | undefined;

  constructor() {
    const supported = typeof navigator !== 'undefined' && 'serviceWorker' in navigator && window.isSecureContext;
    this.state = { supported, waitingWorker: false, controlled: supported && navigator.serviceWorker.controller !== null, dismissed: false, busy: false };
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(patch: Partial<VersionState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }

  /** Registers the worker (its first install pins the relay's current bundle), then checks once and every hour. */
  async start(): Promise<void> {
    if (!this.state.supported) return;
    try {
      this.registration = await navigator.serviceWorker.register(WORKER_URL);
      this.watchWaiting(this.registration);
      await navigator.serviceWorker.ready;
      await this.check();
    } catch (error) {
      // Offline on the very first load, or the relay serves no worker: the app runs unpinned.
      this.set({ error: error instanceof Error ? error.message : String(error) });
    }
    setInterval(() => void this.check().catch(() => undefined), CHECK_EVERY_MS);
  }

  /** A changed sw.js installs as a waiting worker: show it, and check what the relay lists now. */
  private watchWaiting(registration: ServiceWorkerRegistration): void {
    const seen = () => {
      if (registration.waiting && registration.active) {
        this.set({ waitingWorker: true, dismissed: false });
        void this.check().catch(() => undefined);
      }
    };
    seen();
    registration.addEventListener('updatefound', () => {
      const installing = registration.installing;
      installing?.addEventListener('statechange', () => installing.state === 'installed' && seen());
    });
  }

  private async active(): Promise<ServiceWorker> {
    const registration = this.registration ?? (await navigator.serviceWorker.ready);
    const worker = registration.active;
    if (!worker) throw new Error('The app’s service worker is not running yet.');
    return worker;
  }

  /** Asks the worker to compare the relay's bundle with the pin; also asks the browser to look for a new sw.js. */
  async check(): Promise<void> {
    if (!this.state.supported) return;
    const worker = await this.active();
    void this.registration?.update().catch(() => undefined);
    try {
      const status = await ask<WorkerStatus>(worker, { type: 'check' });
      const changed = status.offer?.hash !== this.state.offer?.hash;
      this.set({
        pinned: status.pinned ?? undefined,
        offer: status.offer ?? undefined,
        checked: status.offer || this.state.waitingWorker ? undefined : 'The relay offers no other version (its version.json lists this bundle).',
        error: undefined,
        ...(changed ? { dismissed: false } : {}),
      });
    } catch (error) {
      // Offline, or version.json is missing: still say what is pinned.
      const status = await ask<WorkerStatus>(worker, { type: 'status' }).catch(() => undefined);
      this.set({ ...(status?.pinned ? { pinned: status.pinned } : {}), checked: `Could not check the relay’s version: ${error instanceof Error ? error.message : String(error)}` });
    }
  }

  /** Whether to show "This relay offers a different version of the app". */
  get offering(): boolean {
    return !this.state.dismissed && (this.state.offer !== undefined || this.state.waitingWorker);
  }

  dismiss(): void {
    this.set({ dismissed: true });
  }

  /**
   * The user agreed: the active worker downloads the offered bundle, verifies every file against
   * the hash shown and pins it; a waiting worker then takes over; the page reloads into the new shell.
   */
  async agree(): Promise<void> {
    this.set({ busy: true, error: undefined });
    try {
      const offer = this.state.offer;
      if (offer) await ask(await this.active(), { type: 'apply', hash: offer.hash });
      const waiting = this.registration?.waiting;
      if (waiting) {
        const switched = new Promise<void>((resolve) => {
          navigator.serviceWorker.addEventListener('controllerchange', () => resolve(), { once: true });
          setTimeout(resolve, 10_000);
        });
        await ask(waiting, { type: 'skip-waiting' });
        await switched;
      }
      location.reload();
    } catch (error) {
      this.set({ busy: false, error: error instanceof Error ? error.message : String(error) });
    }
  }
}

/** The one AppVersion of the page, made in main.tsx (undefined in tests that render parts alone). */
export const AppVersionContext = createContext<AppVersion | undefined>(undefined);
