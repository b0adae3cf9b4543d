/**
 * Socket.IO's default parser refuses packets with more than 10 binary attachments
 * (socket.io-parser ≥ 4.2.6 `maxAttachments: 10`), yet every envelope body is one attachment
 * and the relay drains backlog pages of up to 100 envelopes. Same wire format, a decoder
 * that accepts a full page. (The relay's decoder has the same limit, so outgoing batches are
 * kept to MAX_ATTACHMENTS_PER_SEND — see outbox.ts.)
 */
import * as parser from 'socket.io-parser';

/** Relay pages are ≤ 100 envelopes by default; leave room for a larger configured page. */
const MAX_DECODED_ATTACHMENTS = 1000;

/** What the relay's default decoder accepts in one packet. */
export const MAX_ATTACHMENTS_PER_SEND = 10;

class RelayDecoder extends parser.Decoder {
  constructor() {
    super({ maxAttachments: MAX_DECODED_ATTACHMENTS });
  }
}

export const relayParser = { protocol: parser.protocol, PacketType: parser.PacketType, Encoder: parser.Encoder, Decoder: RelayDecoder };
