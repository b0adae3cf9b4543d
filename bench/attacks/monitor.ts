/**
 * What the runner watches while an attack runs, from a loopback address no attacker uses
 * (127.0.0.2), so the relay's per-address limits never lump the watcher in with the attacker:
 * - the relay's resident memory every 100 ms (VmRSS) and its high-water mark (VmHWM);
 * - `GET /healthz` every 100 ms, each on a fresh connection, as a monitor would;
 * - every second, a legitimate user: Alice opens a new socket (a fresh signed handshake), sends
 *   Bob one envelope and waits for its ack; Bob, connected throughout, must receive it and
 *   acks it. Bob reconnects when the relay drops him (counted as a handshake too).
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { DeliveredEnvelope, SendAck } from '../../protocol/events.js';
import { percentile } from '../stats.js';
import { connect, emitWithAck, errorText, http, randomId, sleep, type ClientSocket, type Device } from './client.js';

export const WATCHER_ADDRESS = '127.0.0.2';

/** VmRSS and VmHWM of a process, KiB; undefined once it is gone. */
export function memoryKiB(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    const hwm = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    if (rss === undefined || hwm === undefined) return undefined;
    return { rss: Number(rss), hwm: Number(hwm) };
  } catch {
    return undefined;
  }
}

export class RssSampler {
  private timer: NodeJS.Timeout;
  peakRssKiB = 0;
  hwmKiB = 0;
  readonly startKiB: number;
  /** [ms since start, MiB] every second, for the report. */
  readonly series: [number, number][] = [];
  private readonly started = performance.now();
  private ticks = 0;

  constructor(private readonly pid: number) {
    this.startKiB = memoryKiB(pid)?.rss ?? 0;
    this.timer = setInterval(() => this.sample(), 100);
  }

  private sample(): void {
    const m = memoryKiB(this.pid);
    if (!m) return;
    this.peakRssKiB = Math.max(this.peakRssKiB, m.rss);
    this.hwmKiB = Math.max(this.hwmKiB, m.hwm);
    if (this.ticks++ % 10 === 0) this.series.push([Math.round(performance.now() - this.started), Math.round(m.rss / 1024)]);
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

export class HealthProbe {
  readonly latencies: number[] = [];
  /** [ms since the probe started, latency ms] of every probe over 50 ms: when the slow ones came. */
  readonly slow: [number, number][] = [];
  private readonly started = performance.now();
  failures = 0;
  readonly failureKinds: Record<string, number> = {};
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly url: string) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    let next = performance.now();
    while (this.running) {
      const started = performance.now();
      try {
        const result = await http(this.url, { method: 'GET', path: '/healthz', localAddress: WATCHER_ADDRESS, timeoutMs: 5000 });
        const ms = performance.now() - started;
        this.latencies.push(ms);
        if (ms > 50) this.slow.push([Math.round(started - this.started), Math.round(ms)]);
        if (result.status !== 200) this.fail(`status ${result.status}`);
      } catch (error) {
        this.latencies.push(performance.now() - started);
        this.fail(errorText(error));
      }
      next += 100;
      const now = performance.now();
      if (next < now) next = now; // a slow probe is not followed by a burst of catch-up probes
      await sleep(next - now);
    }
  }

  private fail(kind: string): void {
    this.failures++;
    this.failureKinds[kind] = (this.failureKinds[kind] ?? 0) + 1;
  }

  async stop(): Promise<{ count: number; p50: number; p99: number; max: number; failures: number; failureKinds: Record<string, number>; slow: [number, number][] }> {
    this.running = false;
    await this.done;
    return {
      count: this.latencies.length,
      p50: percentile(this.latencies, 50),
      p99: percentile(this.latencies, 99),
      max: this.latencies.length ? Math.max(...this.latencies) : Number.NaN,
      failures: this.failures,
      failureKinds: this.failureKinds,
      slow: this.slow,
    };
  }
}

export interface LegitSummary {
  handshakesOk: number;
  handshakesTotal: number;
  sendsOk: number;
  sendsTotal: number;
  /** Why the failures failed: label → count. */
  failures: Record<string, number>;
  handshakeP99Ms: number;
  deliveryP99Ms: number;
}

/** Alice → Bob, once a second; see the file comment. */
export class LegitUser {
  private bob: ClientSocket | undefined;
  private readonly waiting = new Map<string, () => void>();
  private running = true;
  private loopDone: Promise<void> | undefined;
  private handshakesOk = 0;
  private handshakesTotal = 0;
  private sendsOk = 0;
  private sendsTotal = 0;
  private readonly failures: Record<string, number> = {};
  private readonly handshakeMs: number[] = [];
  private readonly deliveryMs: number[] = [];
  private readonly body = new Uint8Array(randomBytes(1024));

  constructor(
    private readonly url: string,
    private readonly alice: Device,
    readonly bobDevice: Device,
  ) {}

  private fail(label: string): void {
    this.failures[label] = (this.failures[label] ?? 0) + 1;
  }

  /** Bob's socket: acks every batch it gets (the attacker's envelopes too, as a real client would). */
  private async connectBob(): Promise<void> {
    this.handshakesTotal++;
    const started = performance.now();
    try {
      const socket = await connect(this.url, this.bobDevice, {
        localAddress: WATCHER_ADDRESS,
        before: (s) =>
          s.on('envelopes', (batch: DeliveredEnvelope[]) => {
            let upTo = 0;
            for (const envelope of batch) {
              upTo = Math.max(upTo, envelope.seq ?? 0);
              this.waiting.get(envelope.id)?.();
            }
            if (upTo > 0) void emitWithAck(s, 'ack', { upTo }).catch(() => undefined);
          }),
      });
      this.handshakeMs.push(performance.now() - started);
      this.handshakesOk++;
      this.bob = socket;
    } catch (error) {
      this.fail(`bob handshake: ${errorText(error)}`);
    }
  }

  async start(): Promise<void> {
    await this.connectBob();
    if (!this.bob) throw new Error(`the legitimate recipient could not connect: ${JSON.stringify(this.failures)}`);
    this.loopDone = this.loop();
  }

  private async loop(): Promise<void> {
    let next = performance.now();
    while (this.running) {
      await this.round();
      next += 1000;
      const now = performance.now();
      if (next < now) next = now;
      await sleep(next - now);
    }
  }

  private async round(): Promise<void> {
    if (!this.bob?.connected) await this.connectBob();
    this.handshakesTotal++;
    const started = performance.now();
    let alice: ClientSocket;
    try {
      alice = await connect(this.url, this.alice, { localAddress: WATCHER_ADDRESS });
      this.handshakeMs.push(performance.now() - started);
      this.handshakesOk++;
    } catch (error) {
      this.fail(`alice handshake: ${errorText(error)}`);
      // A send still counts as attempted and failed: the user could not send this second.
      this.sendsTotal++;
      this.fail('send: no socket');
      return;
    }
    this.sendsTotal++;
    const id = randomId();
    const sentAt = performance.now();
    const received = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve(false);
      }, 10_000);
      this.waiting.set(id, () => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(true);
      });
    });
    try {
      const ack = await emitWithAck<SendAck>(alice, 'send', { to: this.bobDevice.id, id, body: this.body }, 10_000);
      if (!ack.ok) this.fail(`send refused: ${ack.error.code}`);
      else if (ack.failed.length > 0) this.fail(`send refused: ${ack.failed.map((f) => f.error.code).join(',')}`);
      else if (!(await received)) this.fail('not received within 10 s');
      else {
        this.sendsOk++;
        this.deliveryMs.push(performance.now() - sentAt);
      }
    } catch (error) {
      this.fail(`send: ${errorText(error)}`);
    } finally {
      this.waiting.delete(id);
      alice.close();
    }
  }

  async stop(): Promise<LegitSummary> {
    this.running = false;
    await this.loopDone;
    this.bob?.close();
    return {
      handshakesOk: this.handshakesOk,
      handshakesTotal: this.handshakesTotal,
      sendsOk: this.sendsOk,
      sendsTotal: this.sendsTotal,
      failures: this.failures,
      handshakeP99Ms: percentile(this.handshakeMs, 99),
      deliveryP99Ms: percentile(this.deliveryMs, 99),
    };
  }
}

/**
 * The legitimate side of device linking, every 2 s (the per-address route limit is 60/min): a
 * blob put for a fresh device id, then claimed by that device's key. Only for the mailbox attacks.
 */
export class LegitLinker {
  ok = 0;
  total = 0;
  readonly failures: Record<string, number> = {};
  private running = true;
  private readonly done: Promise<void>;

  constructor(
    private readonly url: string,
    private readonly newDevice: () => Device,
    private readonly claimHeaders: (device: Device, path: string) => Record<string, string>,
  ) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const started = performance.now();
      this.total++;
      const target = this.newDevice();
      const blob = randomId(600);
      try {
        const put = await http(this.url, {
          method: 'PUT',
          path: `/v2/provisioning/${target.id}`,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ body: blob }),
          localAddress: WATCHER_ADDRESS,
        });
        if (put.status !== 204) {
          this.fail(`put ${put.status} ${put.body.slice(0, 80)}`);
        } else {
          const path = `/v2/provisioning/${target.id}/claim`;
          const claim = await http(this.url, { method: 'POST', path, headers: this.claimHeaders(target, path), localAddress: WATCHER_ADDRESS });
          const bodies = claim.status === 200 ? (JSON.parse(claim.body) as { bodies: string[] }).bodies : [];
          if (bodies.includes(blob)) this.ok++;
          else this.fail(`claim ${claim.status}`);
        }
      } catch (error) {
        this.fail(errorText(error));
      }
      await sleep(Math.max(0, 2000 - (performance.now() - started)));
    }
  }

  private fail(label: string): void {
    this.failures[label] = (this.failures[label] ?? 0) + 1;
  }

  async stop(): Promise<{ ok: number; total: number; failures: Record<string, number> }> {
    this.running = false;
    await this.done;
    return { ok: this.ok, total: this.total, failures: this.failures };
  }
}
