/** Prometheus metrics in a per-app registry (no module-level state: two relays can share a process). */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface RelayMetrics {
  registry: Registry;
  envelopesStored: Counter;
  enqueueTransactions: Counter;
  envelopesDelivered: Counter;
  envelopesExpired: Counter;
  sockets: Gauge;
}

export function createMetrics(): RelayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'sealpost_' });
  return {
    registry,
    envelopesStored: new Counter({ name: 'sealpost_envelopes_stored_total', help: 'envelopes durably queued', registers: [registry] }),
    enqueueTransactions: new Counter({ name: 'sealpost_enqueue_transactions_total', help: 'group-commit transactions', registers: [registry] }),
    envelopesDelivered: new Counter({ name: 'sealpost_envelopes_pushed_total', help: 'envelopes emitted to sockets', registers: [registry] }),
    envelopesExpired: new Counter({ name: 'sealpost_envelopes_expired_total', help: 'envelopes deleted by the TTL sweeper', registers: [registry] }),
    sockets: new Gauge({ name: 'sealpost_sockets', help: 'authenticated live sockets', registers: [registry] }),
  };
}
