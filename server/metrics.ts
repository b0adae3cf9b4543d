/**
 * Prometheus metrics in a per-app registry (no module-level state: two relays can share a
 * process). Every series is `sealpost_…`; none carries a device id, handle or address as a
 * label, so a scrape reveals volumes and timings only.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { LeanHistogram, type HistogramSeries } from './lean-histogram.js';
import type { ErrorCode } from '../protocol/errors.js';
import type { RelayStats } from './store/store.js';

export interface RelayMetrics {
  registry: Registry;
  /** Envelopes durably queued (group commit). */
  envelopesStored: Counter;
  /** Envelopes a send accepted: stored, or pushed live when ephemeral. */
  envelopesAccepted: Counter;
  /** Envelopes deleted because their recipient acknowledged them. */
  envelopesDelivered: Counter;
  /** Envelopes emitted to sockets (live pushes and drain pages). */
  envelopesPushed: Counter;
  envelopesExpired: Counter;
  envelopesRefused: Counter<'code'>;
  enqueueTransactions: Counter;
  /** Envelopes stored per group commit (what it buys). */
  writeBatchSize: HistogramSeries;
  /** Time from a socket event's arrival to its ack, in seconds, by event. */
  eventDuration: Record<'send' | 'ack', HistogramSeries>;
  sockets: Gauge;
  refuse(code: ErrorCode, envelopes?: number): void;
  /** Attachment uploads (POST and PATCH) refused, by the error code answered. */
  attachmentUploadsRefused: Counter<'reason'>;
  /** Web Push requests by how they ended: sent, gone, rejected, failed, dropped (server/push/notifier.ts). */
  pushSent: Counter<'result'>;
}

/** What the attachment gauges show: blobs held (live or awaiting the sweeper) and their bytes received. */
export interface AttachmentStats {
  blobs: number;
  bytes: number;
}

/** `stats` and `attachmentStats` are read at scrape time, so the gauges cost nothing between scrapes. */
export function createMetrics(stats?: () => Promise<RelayStats>, attachmentStats?: () => Promise<AttachmentStats>): RelayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sealpost_' });
  const registers = [registry];
  // One store read per scrape feeds all three gauges.
  let pending: Promise<RelayStats> | undefined;
  const read = (): Promise<RelayStats> => {
    pending ??= (stats ? stats() : Promise.resolve({ devices: 0, envelopes: 0, bytes: 0 })).finally(() => {
      setImmediate(() => (pending = undefined));
    });
    return pending;
  };
  const statGauge = (name: string, help: string, pick: (s: RelayStats) => number): Gauge =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        this.set(pick(await read()));
      },
    });
  statGauge('sealpost_devices', 'registered devices', (s) => s.devices);
  statGauge('sealpost_queue_envelopes', 'undelivered envelopes held, all devices', (s) => s.envelopes);
  statGauge('sealpost_queue_bytes', 'undelivered body bytes held, all devices', (s) => s.bytes);

  // One blob-store read per scrape feeds both attachment gauges.
  let blobsPending: Promise<AttachmentStats> | undefined;
  const readBlobs = (): Promise<AttachmentStats> => {
    blobsPending ??= (attachmentStats ? attachmentStats() : Promise.resolve({ blobs: 0, bytes: 0 })).finally(() => {
      setImmediate(() => (blobsPending = undefined));
    });
    return blobsPending;
  };
  for (const [name, help, pick] of [
    ['sealpost_attachments_stored', 'attachment blobs held, unfinished uploads included', (s: AttachmentStats) => s.blobs],
    ['sealpost_attachment_bytes_stored', 'bytes of attachment blobs held', (s: AttachmentStats) => s.bytes],
  ] as const) {
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        this.set(pick(await readBlobs()));
      },
    });
  }

  const eventDuration = new LeanHistogram('sealpost_event_duration_seconds', 'socket event handling time, arrival to ack', [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registry);
  const envelopesRefused = new Counter({ name: 'sealpost_envelopes_refused_total', help: 'envelopes refused, by error code', labelNames: ['code'] as const, registers });
  return {
    registry,
    envelopesStored: new Counter({ name: 'sealpost_envelopes_stored_total', help: 'envelopes durably queued', registers }),
    envelopesAccepted: new Counter({ name: 'sealpost_envelopes_accepted_total', help: 'envelopes accepted by send (stored, or pushed live if ephemeral)', registers }),
    envelopesDelivered: new Counter({ name: 'sealpost_envelopes_delivered_total', help: 'envelopes deleted after their recipient acknowledged them', registers }),
    envelopesPushed: new Counter({ name: 'sealpost_envelopes_pushed_total', help: 'envelopes emitted to sockets', registers }),
    envelopesExpired: new Counter({ name: 'sealpost_envelopes_expired_total', help: 'envelopes deleted by the TTL sweeper', registers }),
    envelopesRefused,
    enqueueTransactions: new Counter({ name: 'sealpost_enqueue_transactions_total', help: 'group-commit transactions', registers }),
    writeBatchSize: new LeanHistogram('sealpost_sqlite_write_batch_envelopes', 'envelopes stored per group commit', [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], registry).series(),
    eventDuration: { send: eventDuration.series({ event: 'send' }), ack: eventDuration.series({ event: 'ack' }) },
    sockets: new Gauge({ name: 'sealpost_sockets', help: 'authenticated live sockets', registers }),
    refuse(code, envelopes = 1) {
      envelopesRefused.inc({ code }, envelopes);
    },
    attachmentUploadsRefused: new Counter({ name: 'sealpost_attachment_uploads_refused_total', help: 'attachment uploads refused, by reason (error code)', labelNames: ['reason'] as const, registers }),
    pushSent: new Counter({ name: 'sealpost_push_sent_total', help: 'Web Push requests to push services, by result (sent, gone, rejected, failed, dropped)', labelNames: ['result'] as const, registers }),
  };
}
