/**
 * The relay's Socket.IO parser (`--parser`). msgpack, the default: an event and its binary
 * bodies are one WebSocket frame, with no limit on bodies per event. json, Socket.IO's stock
 * parser for stock clients: every body is a separate binary attachment, and stock decoders
 * refuse packets with more than 10 attachments, so envelopes go out at most 10 per event (a
 * drain page may then span several events; flow control is per page, by ack). The relay's own
 * json decoder accepts a full `send` batch (maxBatch bodies). The msgpack decoder does bounded
 * work (relayDecodeLimits): twice the largest legal array, small maps, shallow nesting, so a
 * header declaring a million items is refused before anything is built, while a batch or id
 * list slightly over its cap still decodes and gets its typed `invalid` ack.
 */
import { Decoder, Encoder } from 'socket.io-parser';
import type { WireParser } from '../config.js';
import type { DeliveredEnvelope } from '../../protocol/events.js';
import type { DecodeLimits } from '../../protocol/msgpack.js';
import { msgpackParser, msgpackParserWith } from '../../protocol/msgpack-parser.js';

const JSON_ENVELOPES_PER_EVENT = 10;
/** The most ids an `ack {ids}` may carry (validators.ts). */
const MAX_ACK_IDS = 1000;

/**
 * What one incoming packet may hold: a packet is a map of ≤ 4 keys, its data an array [event,
 * payload], a payload an envelope map (5 keys), a batch of ≤ maxBatch of them or {ids: ≤ 1000},
 * the CONNECT's auth a map of 5 keys; nothing nests more than 5 deep.
 */
export function relayDecodeLimits(maxBatch: number): DecodeLimits {
  const maxArrayLength = 2 * Math.max(maxBatch, MAX_ACK_IDS);
  return { maxDepth: 16, maxArrayLength, maxMapPairs: 64, maxValues: 16 * maxArrayLength };
}

export function relayParser(maxBatch: number, parser: WireParser): { Encoder: unknown; Decoder: unknown } {
  if (parser === 'msgpack') return msgpackParserWith(relayDecodeLimits(maxBatch));
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
