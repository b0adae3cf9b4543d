/**
 * Socket.IO's default parser refuses packets with more than 10 binary attachments
 * (socket.io-parser ≥ 4.2.6 `maxAttachments: 10`), and every envelope body is one attachment.
 * The relay emits envelopes in events of at most 10 and its decoder accepts a full batch, so
 * this decoder is only a safety margin: the same wire format, accepting larger events (e.g.
 * from a relay configured or built differently) instead of dropping the connection.
 */
import * as parser from 'socket.io-parser';

/** Relay pages are ≤ 100 envelopes by default; leave room for a larger configured page. */
const MAX_DECODED_ATTACHMENTS = 1000;

/** The relay's default `maxBatch`: envelopes per `send`. */
export const MAX_ENVELOPES_PER_SEND = 100;

class RelayDecoder extends parser.Decoder {
  constructor() {
    super({ maxAttachments: MAX_DECODED_ATTACHMENTS });
  }
}

export const relayParser = { protocol: parser.protocol, PacketType: parser.PacketType, Encoder: parser.Encoder, Decoder: RelayDecoder };
