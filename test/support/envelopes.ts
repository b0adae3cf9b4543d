/**
 * Envelope helpers for tests: seal a test body to a device (libsodium crypto_box_seal to the
 * device key's X25519 form, as the real client does), collect what a socket receives, and
 * send/ack with a bounded wait.
 */
import { signingKeyToDh, signingPrivateKeyToDh } from '../../crypto/keys.js';
import { sodium } from '../../crypto/sodium.js';
import type { AckRequest, AckResult, DeliveredEnvelope, OutgoingEnvelope, SendAck } from '../../protocol/events.js';
import { connectDevice, randomId, type ClientSocket, type TestDevice } from './identity.js';

export function sealFor(device: TestDevice, text: string): Uint8Array {
  return sodium().crypto_box_seal(new TextEncoder().encode(text), signingKeyToDh(device.keys.publicKey));
}

export function openFor(device: TestDevice, body: Uint8Array): string {
  const opened = sodium().crypto_box_seal_open(body, signingKeyToDh(device.keys.publicKey), signingPrivateKeyToDh(device.keys.privateKey));
  return new TextDecoder().decode(opened);
}

export function envelopeTo(device: TestDevice, text: string, extra: Partial<OutgoingEnvelope> = {}): OutgoingEnvelope {
  return { to: device.id, id: randomId(), body: sealFor(device, text), ...extra };
}

export function send(socket: ClientSocket, payload: OutgoingEnvelope | OutgoingEnvelope[], timeoutMs = 5000): Promise<SendAck> {
  return socket.timeout(timeoutMs).emitWithAck('send', payload);
}

export function ack(socket: ClientSocket, request: AckRequest, timeoutMs = 5000): Promise<AckResult> {
  return socket.timeout(timeoutMs).emitWithAck('ack', request);
}

/** Emits a raw event with any payload (for malformed-input tests) and waits for the ack. */
export function emitRaw(socket: ClientSocket, event: string, args: unknown[], timeoutMs = 3000): Promise<unknown> {
  const raw = socket as unknown as { timeout(ms: number): { emitWithAck(ev: string, ...a: unknown[]): Promise<unknown> } };
  return raw.timeout(timeoutMs).emitWithAck(event, ...args);
}

/** Records every `envelopes` batch a socket receives. */
export class Inbox {
  readonly batches: DeliveredEnvelope[][] = [];
  readonly prekeyCounts: number[] = [];
  #waiters: (() => void)[] = [];

  constructor(readonly socket: ClientSocket) {
    socket.on('envelopes', (batch) => {
      this.batches.push(batch);
      this.#notify();
    });
    socket.on('prekeys', (status) => {
      this.prekeyCounts.push(status.oneTimePrekeys);
      this.#notify();
    });
  }

  get envelopes(): DeliveredEnvelope[] {
    return this.batches.flat();
  }

  #notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  /** Resolves once `predicate` holds, or rejects after timeoutMs. */
  async until(predicate: (inbox: Inbox) => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${this.envelopes.length} envelopes in ${this.batches.length} batches`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  waitForCount(n: number, timeoutMs = 5000): Promise<void> {
    return this.until((i) => i.envelopes.length >= n, timeoutMs, `${n} envelopes`);
  }
}

/** Waits a little to show that nothing (more) arrives. */
export function quietPeriod(ms = 300): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Connects a device with an Inbox attached before the handshake, so nothing emitted on connect is missed. */
export async function connectInbox(url: string, device: TestDevice): Promise<{ socket: ClientSocket; inbox: Inbox }> {
  let inbox: Inbox | undefined;
  const socket = await connectDevice(url, device, (s) => {
    inbox = new Inbox(s);
  });
  return { socket, inbox: inbox! };
}
