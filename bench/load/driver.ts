/**
 * One client API over the three targets, so every scenario drives them with the same code.
 * A driver makes devices (sealpost: real accounts; the baselines: just ids) and connects them.
 */
import type { AckRequest, AckResult, DeliveredEnvelope, OutgoingEnvelope, SendAck } from '../../protocol/events.js';

export interface BenchDevice {
  id: string;
  /** Which relay node to connect to (an index into the driver's URLs, modulo their count); 0 when absent. */
  node?: number;
}

export interface BenchClient {
  readonly deviceId: string;
  send(envelopes: OutgoingEnvelope | OutgoingEnvelope[]): Promise<SendAck>;
  ack(request: AckRequest): Promise<AckResult>;
  close(): void;
}

export type EnvelopeHandler = (client: BenchClient, batch: DeliveredEnvelope[]) => void;

export interface Driver {
  createDevices(count: number): Promise<BenchDevice[]>;
  /** Resolves once connected (authenticated); the handler is attached before the connection opens. */
  connect(device: BenchDevice, onEnvelopes?: EnvelopeHandler): Promise<BenchClient>;
}

/**
 * Loopback source address number `index` of `count` (127.0.0.1, 127.0.0.2, …), or undefined
 * for one: one source address reaches one port of the target through at most as many
 * connections as there are ephemeral ports (ip_local_port_range, ~28,000 by default).
 */
export function loopbackSource(index: number, count: number): string | undefined {
  return count > 1 ? `127.0.0.${1 + (index % Math.min(count, 254))}` : undefined;
}

/** Runs `task` over `items` with at most `limit` in flight, keeping results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export class BenchError extends Error {
  override readonly name = 'BenchError';
}
