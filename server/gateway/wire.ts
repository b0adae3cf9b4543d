/**
 * The relay's Socket.IO parser (`--parser`). msgpack, the default: an event and its binary
 * bodies are one WebSocket frame, with no limit on bodies per event. json, Socket.IO's stock
 * parser for stock clients: every body is a separate binary attachment, and stock decoders
 * refuse packets with more than 10 attachments, so envelopes go out at most 10 per event (a
 * drain page may then span several events; flow control is per page, by ack). The relay's own
 * json decoder accepts a full `send` batch (maxBatch bodies).
 */
import { Decoder, Encoder } from 'socket.io-parser';
import type { WireParser } from '../config.js';
import type { DeliveredEnvelope } from '../protocol/events.js';
import { msgpackParser } from '../protocol/msgpack-parser.js';

const JSON_ENVELOPES_PER_EVENT = 10;

export function relayParser(maxBatch: number, parser: WireParser): { Encoder: unknown; Decoder: unknown } {
  if (parser === 'msgpack') return msgpackParser;
  class BatchDecoder extends Decoder {
    constructor() {
      super({ maxAttachments: maxBatch + 1 });
    }
  }
  return { Encoder, Decoder: BatchDecoder };
}

/** Emits `envelopes` events: all of them in one with msgpack, in chunks a stock json client decodes otherwise. */
export function emitInChunks(io: { readonly encoder: unknown }, emit: (batch: DeliveredEnvelope[]) => void, envelopes: DeliveredEnvelope[]): void {
  if (io.encoder instanceof msgpackParser.Encoder) {
    emit(envelopes);
    return;
  }
  for (let i = 0; i < envelopes.length; i += JSON_ENVELOPES_PER_EVENT) emit(envelopes.slice(i, i + JSON_ENVELOPES_PER_EVENT));
}
