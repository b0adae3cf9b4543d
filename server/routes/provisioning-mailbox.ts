/**
 * Short-lived, in-memory mailbox for device linking: the existing device drops sealed blobs for
 * a new device that is not registered yet (so it has no queue); the new device claims them with
 * a request signed by its key. Never written to disk; entries expire after `ttlMs`.
 *
 * Putting is unauthenticated, so every budget is keyed to who asks or what is named, and a full
 * budget refuses only the put that would exceed it — never everyone:
 *  - per target id: at most `maxBlobsPerId` blobs;
 *  - per client address (an IPv6 address counts by its /64, which one host usually holds whole):
 *    at most `maxBlobsPerIp` blobs and `maxBytesPerIp` bytes held at once;
 *  - in total: at most `maxBlobs` blobs and `maxBytes` bytes (memory), far more than a few hundred
 *    addresses can hold with their own budgets.
 * Sizes are the stored base64url text. A claim or the expiry gives the budgets back.
 */
export interface MailboxLimits {
  maxBlobsPerId: number;
  maxBlobsPerIp: number;
  maxBytesPerIp: number;
  maxBlobs: number;
  maxBytes: number;
  ttlMs: number;
}

interface Blob {
  body: string;
  /** The address key that put it (its budget gets the blob back). */
  owner: string;
}

interface Box {
  blobs: Blob[];
  expiresAt: number;
}

interface Usage {
  blobs: number;
  bytes: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_MAILBOX_LIMITS: Readonly<MailboxLimits> = Object.freeze({
  maxBlobsPerId: 5,
  maxBlobsPerIp: 10,
  maxBytesPerIp: 128 * KiB,
  maxBlobs: 20_000,
  maxBytes: 64 * MiB,
  ttlMs: 10 * 60 * 1000,
});

/** Which budget a refused put hit. */
export type PutOutcome = 'stored' | 'id_full' | 'ip_full' | 'full';

/** The key an address's budget is kept under: IPv4 as is, IPv6 by its /64 prefix. */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::') ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Where link blobs wait: this process's memory, or PostgreSQL for every node of a cluster (server/cluster/). */
export interface LinkMailbox {
  put(deviceId: string, body: string, ip: string, now?: number): PutOutcome | Promise<PutOutcome>;
  claim(deviceId: string, now?: number): string[] | Promise<string[]>;
}

export class ProvisioningMailbox implements LinkMailbox {
  readonly #boxes = new Map<string, Box>();
  readonly #byOwner = new Map<string, Usage>();
  #blobs = 0;
  #bytes = 0;

  constructor(private readonly limits: MailboxLimits = DEFAULT_MAILBOX_LIMITS) {}

  /** Stores the blob for `deviceId`, put from client address `ip`, unless a budget is spent. */
  put(deviceId: string, body: string, ip: string, now = Date.now()): PutOutcome {
    this.prune(now);
    const owner = addressKey(ip);
    const usage = this.#byOwner.get(owner) ?? { blobs: 0, bytes: 0 };
    const box = this.#boxes.get(deviceId);
    if (box && box.blobs.length >= this.limits.maxBlobsPerId) return 'id_full';
    if (usage.blobs + 1 > this.limits.maxBlobsPerIp || usage.bytes + body.length > this.limits.maxBytesPerIp) return 'ip_full';
    if (this.#blobs + 1 > this.limits.maxBlobs || this.#bytes + body.length > this.limits.maxBytes) return 'full';
    const target = box ?? { blobs: [], expiresAt: now + this.limits.ttlMs };
    if (!box) this.#boxes.set(deviceId, target);
    target.blobs.push({ body, owner });
    this.#byOwner.set(owner, { blobs: usage.blobs + 1, bytes: usage.bytes + body.length });
    this.#blobs += 1;
    this.#bytes += body.length;
    return 'stored';
  }

  /** Returns and deletes the blobs for this id. */
  claim(deviceId: string, now = Date.now()): string[] {
    this.prune(now);
    const box = this.#boxes.get(deviceId);
    if (!box) return [];
    this.#drop(deviceId, box);
    return box.blobs.map((b) => b.body);
  }

  /** What is held, in total (tests, metrics). */
  usage(): { ids: number; blobs: number; bytes: number; addresses: number } {
    return { ids: this.#boxes.size, blobs: this.#blobs, bytes: this.#bytes, addresses: this.#byOwner.size };
  }

  prune(now = Date.now()): void {
    for (const [id, box] of this.#boxes) if (box.expiresAt <= now) this.#drop(id, box);
  }

  #drop(deviceId: string, box: Box): void {
    this.#boxes.delete(deviceId);
    for (const { body, owner } of box.blobs) {
      this.#blobs -= 1;
      this.#bytes -= body.length;
      const usage = this.#byOwner.get(owner);
      if (!usage) continue;
      usage.blobs -= 1;
      usage.bytes -= body.length;
      if (usage.blobs <= 0) this.#byOwner.delete(owner);
    }
  }
}
