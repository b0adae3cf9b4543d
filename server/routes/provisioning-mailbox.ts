/**
 * Short-lived, in-memory mailbox for device linking: the existing device drops sealed blobs for
 * a new device that is not registered yet (so it has no queue); the new device claims them with
 * a request signed by its key. Never written to disk; entries expire after `ttlMs`.
 */
export interface MailboxLimits {
  maxBlobsPerId: number;
  maxIds: number;
  ttlMs: number;
}

interface Box {
  bodies: string[];
  expiresAt: number;
}

export const DEFAULT_MAILBOX_LIMITS: MailboxLimits = { maxBlobsPerId: 5, maxIds: 10_000, ttlMs: 10 * 60 * 1000 };

export class ProvisioningMailbox {
  readonly #boxes = new Map<string, Box>();

  constructor(private readonly limits: MailboxLimits = DEFAULT_MAILBOX_LIMITS) {}

  /** 'full' when this id holds its maximum; 'busy' when the relay holds too many boxes. */
  put(deviceId: string, body: string, now = Date.now()): 'stored' | 'full' | 'busy' {
    this.prune(now);
    let box = this.#boxes.get(deviceId);
    if (!box) {
      if (this.#boxes.size >= this.limits.maxIds) return 'busy';
      box = { bodies: [], expiresAt: now + this.limits.ttlMs };
      this.#boxes.set(deviceId, box);
    }
    if (box.bodies.length >= this.limits.maxBlobsPerId) return 'full';
    box.bodies.push(body);
    return 'stored';
  }

  /** Returns and deletes the blobs for this id. */
  claim(deviceId: string, now = Date.now()): string[] {
    this.prune(now);
    const box = this.#boxes.get(deviceId);
    this.#boxes.delete(deviceId);
    return box?.bodies ?? [];
  }

  prune(now = Date.now()): void {
    for (const [id, box] of this.#boxes) if (box.expiresAt <= now) this.#boxes.delete(id);
  }
}
