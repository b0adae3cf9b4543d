/** Clients of the raw-ws floor: one binary frame per message (targets/raw-frames.ts). */
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import type { AckRequest, AckResult, OutgoingEnvelope, SendAck } from '../../protocol/events.js';
import { FRAME, decodeFrame, encodeFrame } from '../targets/raw-frames.js';
import { BenchError, loopbackSource, type BenchClient, type BenchDevice, type Driver, type EnvelopeHandler } from './driver.js';

class RawWsClient implements BenchClient {
  private nextReq = 1;
  private readonly sendWaiters = new Map<number, (ack: SendAck) => void>();
  private readonly ackWaiters = new Map<number, (result: AckResult) => void>();

  constructor(
    readonly deviceId: string,
    private readonly ws: WebSocket,
    onEnvelopes: EnvelopeHandler | undefined,
  ) {
    ws.on('message', (data: Buffer) => {
      const frame = decodeFrame(data);
      if (frame?.type === FRAME.envelope) {
        onEnvelopes?.(this, [{ id: frame.id, seq: frame.seq, body: frame.body }]);
      } else if (frame?.type === FRAME.sendAck) {
        const resolve = this.sendWaiters.get(frame.req);
        this.sendWaiters.delete(frame.req);
        resolve?.(frame.ok ? { ok: true, failed: [] } : { ok: false, error: { code: 'internal', message: 'refused' } });
      } else if (frame?.type === FRAME.ackResult) {
        const resolve = this.ackWaiters.get(frame.req);
        this.ackWaiters.delete(frame.req);
        resolve?.({ ok: true, deleted: frame.deleted });
      }
    });
  }

  send(envelopes: OutgoingEnvelope | OutgoingEnvelope[]): Promise<SendAck> {
    const batch = Array.isArray(envelopes) ? envelopes : [envelopes];
    // The floor has no batch frame: a batch is that many frames, acked when the last one is.
    return Promise.all(
      batch.map(
        (envelope) =>
          new Promise<SendAck>((resolve) => {
            const req = this.nextReq++;
            this.sendWaiters.set(req, resolve);
            this.ws.send(encodeFrame({ type: FRAME.send, req, to: envelope.to, id: envelope.id, body: envelope.body }));
          }),
      ),
    ).then((acks) => acks.find((a) => !a.ok) ?? { ok: true, failed: [] });
  }

  ack(request: AckRequest): Promise<AckResult> {
    if (!('upTo' in request)) return Promise.resolve({ ok: false, error: { code: 'invalid', message: 'raw-ws acks by seq only' } });
    return new Promise((resolve) => {
      const req = this.nextReq++;
      this.ackWaiters.set(req, resolve);
      this.ws.send(encodeFrame({ type: FRAME.ack, req, upTo: request.upTo }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

export function rawWsDriver(url: string, sourceAddresses = 1): Driver {
  const wsUrl = url.replace(/^http/, 'ws');
  let connects = 0;
  return {
    async createDevices(count: number): Promise<BenchDevice[]> {
      return Array.from({ length: count }, () => ({ id: randomBytes(32).toString('base64url') }));
    },
    connect(device: BenchDevice, onEnvelopes?: EnvelopeHandler): Promise<BenchClient> {
      const localAddress = loopbackSource(connects++, sourceAddresses);
      const ws = new WebSocket(`${wsUrl}/?device=${encodeURIComponent(device.id)}`, { perMessageDeflate: false, ...(localAddress === undefined ? {} : { localAddress }) });
      const client = new RawWsClient(device.id, ws, onEnvelopes);
      return new Promise((resolve, reject) => {
        ws.once('open', () => resolve(client));
        ws.once('error', (error) => reject(new BenchError(`connect failed: ${error.message}`)));
      });
    },
  };
}
