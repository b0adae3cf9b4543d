/**
 * Who is typing where: remote indicators expire on their own (a lost "stopped" must not leave
 * one forever), and our own "typing" is sent at most every few seconds, with a "stopped" after
 * a pause.
 */
const SHOWN_FOR_MS = 6_000;
const RESEND_AFTER_MS = 3_000;
const IDLE_AFTER_MS = 4_000;

export class TypingTracker {
  private readonly remote = new Map<string, Map<string, number>>();
  private readonly ownSentAt = new Map<string, number>();
  private readonly idleTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly onChange: () => void) {}

  /** A typing event from `from` in conversation `key`. */
  remoteTyping(key: string, from: string, typing: boolean): void {
    const people = this.remote.get(key) ?? new Map<string, number>();
    if (typing) {
      people.set(from, Date.now() + SHOWN_FOR_MS);
      setTimeout(this.onChange, SHOWN_FOR_MS + 50);
    } else {
      people.delete(from);
    }
    this.remote.set(key, people);
    this.onChange();
  }

  /** A message from `from` ends their typing. */
  remoteSent(key: string, from: string): void {
    this.remote.get(key)?.delete(from);
  }

  typingIn(key: string): string[] {
    const now = Date.now();
    return [...(this.remote.get(key) ?? new Map<string, number>())].filter(([, until]) => until > now).map(([from]) => from);
  }

  /** Called on each keystroke; `send(true|false)` is the SDK call. */
  localKeystroke(key: string, send: (typing: boolean) => void): void {
    const now = Date.now();
    if (now - (this.ownSentAt.get(key) ?? 0) > RESEND_AFTER_MS) {
      this.ownSentAt.set(key, now);
      send(true);
    }
    const previous = this.idleTimers.get(key);
    if (previous) clearTimeout(previous);
    this.idleTimers.set(key, setTimeout(() => this.localStopped(key, send), IDLE_AFTER_MS));
  }

  localStopped(key: string, send: (typing: boolean) => void): void {
    const timer = this.idleTimers.get(key);
    if (timer) clearTimeout(timer);
    this.idleTimers.delete(key);
    if (!this.ownSentAt.has(key)) return;
    this.ownSentAt.delete(key);
    send(false);
  }
}
