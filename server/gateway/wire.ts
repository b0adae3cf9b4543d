/**
 * Binary framing limits of Socket.IO. Every binary body is one "attachment", and socket.io-parser
 * refuses packets with more than 10 attachments by default (on both ends). So:
 * - the relay's decoder accepts a full `send` batch (maxBatch bodies);
 * - the relay emits `envelopes` in chunks of at most ENVELOPES_PER_EVENT, so stock clients
 *   (default parser) can decode every event. A drain page may therefore span several events;
 *   flow control is per page, by ack.
 */
import { Decoder, Encoder } from 'socket.io-parser';
import type { WireParser } from '../config.js';
import type { DeliveredEnvelope } from '../protocol/events.js';

export const ENVELOPES_PER_EVENT = 10;

export async function relayParser(maxBatch: number, parser: WireParser = 'default'): Promise<{ Encoder: unknown; Decoder: unknown }> {
  // msgpack: bodies travel inside the one frame of their packet, so no attachment limit applies.
  // Loaded only when chosen: socket.io-msgpack-parser is an optional (dev) dependency.
  if (parser === 'msgpack') return (await import('./msgpack-parser.js')).msgpackParser;
  class BatchDecoder extends Decoder {
    constructor() {
      super({ maxAttachments: maxBatch + 1 });
    }
  }
  return { Encoder, Decoder: BatchDecoder };
}

export function emitInChunks(emit: (batch: DeliveredEnvelope[]) => void, envelopes: DeliveredEnvelope[]): void {
  for (let i = 0; i < envelopes.length; i += ENVELOPES_PER_EVENT) emit(envelopes.slice(i, i + ENVELOPES_PER_EVENT));
}
