/**
 * How the nodes of a cluster tell each other about a device (issue: relays in a cluster). A
 * node publishes a notice on the device's channel after the fact (after the commit, for stored
 * envelopes); the node holding a socket of that device subscribes before the socket's first
 * drain read and acts on what it hears. A notice of stored envelopes carries their last sequence
 * number and, when they are small, the envelopes themselves, already committed: a node pushes
 * them only to sockets whose cursor they follow, and any other socket reads the store after its
 * cursor. A lost notice can therefore delay delivery, never lose or reorder it (delivery.ts
 * catches up).
 *
 * One relay process alone has no peers: `SoloBus` hears nothing and says so.
 */
import type { DeliveredEnvelope } from '../../protocol/events.js';

export type Notice =
  /** Envelopes up to `seq` were committed for the device; `envelopes`, when small, are those of this commit, in seq order. */
  | { kind: 'stored'; seq: number; envelopes?: DeliveredEnvelope[] }
  /** An ephemeral envelope for the device's live sockets (never stored). */
  | { kind: 'ephemeral'; envelope: DeliveredEnvelope }
  /** The device's one-time prekeys ran low. */
  | { kind: 'prekeys'; count: number }
  /** The device left its account's list: its sockets are closed. */
  | { kind: 'removed' };

export interface NoticeBus {
  /** False while notices may be missed (the bus is down or reconnecting): delivery then polls the store. */
  readonly healthy: boolean;
  /** Resolves once notices of this device reach this node (or rejects, e.g. when the bus is down). */
  subscribe(deviceId: string): Promise<void>;
  unsubscribe(deviceId: string): void;
  /**
   * Never rejects: a notice that cannot be sent is lost (delivery does not depend on it). Resolves
   * with how many nodes were listening on the device's channel, i.e. hold a socket of it (Redis
   * answers PUBLISH with that count), or undefined when the bus could not say.
   */
  publish(deviceId: string, notice: Notice): Promise<number | undefined>;
  /** Notices of other nodes, for devices this node subscribed to. */
  onNotice(listener: (deviceId: string, notice: Notice) => void): void;
  /** The bus came back after an outage: notices sent meanwhile are lost, so delivery catches up. */
  onRecovered(listener: () => void): void;
  close(): Promise<void>;
}

export class SoloBus implements NoticeBus {
  readonly healthy = true;
  subscribe(): Promise<void> {
    return Promise.resolve();
  }
  unsubscribe(): void {}
  /** No peers: nobody else holds a socket. */
  publish(): Promise<number | undefined> {
    return Promise.resolve(0);
  }
  onNotice(): void {}
  onRecovered(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}
