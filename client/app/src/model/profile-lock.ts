/**
 * One writer per profile: the tab that holds the exclusive Web Lock "sealpost-profile" is the
 * only one that opens the SDK's IndexedDB store. Two tabs encrypting from one ratchet state lose
 * messages (each overwrites the other's state), so a second tab opens nothing and offers
 * "Use here", which steals the lock. The tab that loses it hears of it twice — its lock request
 * rejects with AbortError, and a BroadcastChannel message "taken" — and must close its client at
 * once, then answer "released" so the new tab opens the store only after the old one stopped
 * writing (or after RELEASE_WAIT_MS, if the old tab is frozen or gone).
 *
 * Without Web Locks (an insecure context, an old browser) the BroadcastChannel alone stands in:
 * a tab asks "who holds it?" and any holder answers.
 */
export const LOCK_NAME = 'sealpost-profile';
const CHANNEL_NAME = 'sealpost-profile';
/** How long a taking tab waits for the old holder to say it closed its client. */
const RELEASE_WAIT_MS = 4_000;
/** How long a tab that found the lock held waits for it before saying another tab has it. */
const RELOAD_WAIT_MS = 700;
/** Without Web Locks: how long to wait for a holder to answer "who holds it?". */
const PING_WAIT_MS = 300;

/** `handover` (with "released"): what the old tab held only in memory, for the new tab (main.tsx). */
type ChannelMessage = { type: 'taken' | 'released' | 'who' | 'here'; tab: string; handover?: unknown };

function tabId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export class ProfileLock {
  private readonly tab = tabId();
  private readonly channel: BroadcastChannel | undefined;
  private readonly locks: LockManager | undefined;
  private heldNow = false;
  private readonly channelListeners = new Set<(message: ChannelMessage) => void>();

  /** Called once each time this tab loses the profile to another tab. */
  onLost: (() => void) | undefined;

  /** `locks`: the Web Locks API (undefined: the BroadcastChannel stands in). */
  constructor(locks: LockManager | undefined = globalThis.navigator?.locks) {
    this.locks = locks;
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL_NAME) : undefined;
    this.channel?.addEventListener('message', (event: MessageEvent<ChannelMessage>) => {
      const message = event.data;
      if (!message || message.tab === this.tab) return;
      if (message.type === 'taken') this.lost();
      if (message.type === 'who' && this.heldNow) this.post('here');
      for (const listener of [...this.channelListeners]) listener(message);
    });
  }

  /** Stops listening (tests; a page keeps its lock object for its lifetime). */
  dispose(): void {
    this.channel?.close();
  }

  get held(): boolean {
    return this.heldNow;
  }

  /** Takes the profile if no other tab holds it; false (and nothing taken) if one does. */
  async tryAcquire(): Promise<boolean> {
    if (!this.locks) {
      const answered = await this.waitFor('here', PING_WAIT_MS, () => this.post('who'));
      if (answered) return false;
      this.heldNow = true;
      return true;
    }
    if (await this.request({ mode: 'exclusive', ifAvailable: true })) return true;
    // A reload: the page being replaced may still hold the lock for a moment.
    return this.request({ mode: 'exclusive', signal: AbortSignal.timeout(RELOAD_WAIT_MS) }).catch(() => false);
  }

  /**
   * "Use here": takes the profile from the tab holding it and resolves once that tab let go, with
   * what it handed over (undefined if none, or if it did not answer in time).
   */
  async takeOver(): Promise<unknown> {
    if (!this.locks) {
      const holder = await this.waitFor('here', PING_WAIT_MS, () => this.post('who'));
      this.heldNow = true;
      if (!holder) return undefined;
      return (await this.waitFor('released', RELEASE_WAIT_MS, () => this.post('taken')))?.handover;
    }
    const state = await this.locks.query();
    const heldElsewhere = (state.held ?? []).some((lock) => lock.name === LOCK_NAME);
    const released = heldElsewhere ? this.waitFor('released', RELEASE_WAIT_MS) : Promise.resolve(undefined);
    await this.request({ mode: 'exclusive', steal: true });
    this.post('taken');
    return (await released)?.handover;
  }

  /** Tells the tab that took the profile that this one closed its client, with what it hands over. */
  announceReleased(handover?: unknown): void {
    this.post('released', handover);
  }

  private request(options: LockOptions): Promise<boolean> {
    const locks = this.locks;
    if (!locks) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      let granted = false;
      const request = locks.request(LOCK_NAME, options, (lock) => {
        if (!lock) {
          resolve(false);
          return undefined;
        }
        granted = true;
        this.heldNow = true;
        resolve(true);
        // Held for the page's lifetime, or until stolen.
        return new Promise<void>(() => undefined);
      });
      request.then(
        () => undefined,
        (error: unknown) => {
          // Stolen by another tab's "Use here": the lock's promise rejects with AbortError.
          if (granted) this.lost();
          else reject(error);
        },
      );
    });
  }

  private lost(): void {
    if (!this.heldNow) return;
    this.heldNow = false;
    this.onLost?.();
  }

  private post(type: ChannelMessage['type'], handover?: unknown): void {
    const message: ChannelMessage = handover === undefined ? { type, tab: this.tab } : { type, tab: this.tab, handover };
    this.channel?.postMessage(message);
  }

  /** Resolves with another tab's `type` message, or undefined after `ms`; `start` runs once listening. */
  private waitFor(type: ChannelMessage['type'], ms: number, start?: () => void): Promise<ChannelMessage | undefined> {
    if (!this.channel) return Promise.resolve(undefined);
    return new Promise<ChannelMessage | undefined>((resolve) => {
      const listener = (message: ChannelMessage) => {
        if (message.type !== type) return;
        done(message);
      };
      const timer = setTimeout(() => done(undefined), ms);
      const done = (answer: ChannelMessage | undefined) => {
        clearTimeout(timer);
        this.channelListeners.delete(listener);
        resolve(answer);
      };
      this.channelListeners.add(listener);
      start?.();
    });
  }
}
