/**
 * The raw-ws floor's binary wire format: one WebSocket binary frame per message, a type byte
 * and fixed-width fields, no JSON. It carries exactly what the Socket.IO targets carry (send,
 * the relay's push with a per-device seq, the recipient's cumulative ack, and the two replies),
 * so the only difference left is the framing and the library.
 */
export const FRAME = { send: 1, sendAck: 2, envelope: 3, ack: 4, ackResult: 5 } as const;

export interface SendFrame { type: typeof FRAME.send; req: number; to: string; id: string; body: Uint8Array }
export interface SendAckFrame { type: typeof FRAME.sendAck; req: number; ok: boolean }
export interface EnvelopeFrame { type: typeof FRAME.envelope; seq: number; id: string; body: Uint8Array }
export interface AckFrame { type: typeof FRAME.ack; req: number; upTo: number }
export interface AckResultFrame { type: typeof FRAME.ackResult; req: number; deleted: number }
export type Frame = SendFrame | SendAckFrame | EnvelopeFrame | AckFrame | AckResultFrame;

function header(type: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  out[0] = type;
  return out;
}

export function encodeFrame(frame: Frame): Buffer {
  switch (frame.type) {
    case FRAME.send: {
      const to = Buffer.from(frame.to, 'latin1');
      const id = Buffer.from(frame.id, 'latin1');
      const out = header(frame.type, 7 + to.length + id.length + frame.body.length);
      out.writeUInt32BE(frame.req, 1);
      out[5] = to.length;
      to.copy(out, 6);
      out[6 + to.length] = id.length;
      id.copy(out, 7 + to.length);
      out.set(frame.body, 7 + to.length + id.length);
      return out;
    }
    case FRAME.envelope: {
      const id = Buffer.from(frame.id, 'latin1');
      const out = header(frame.type, 6 + id.length + frame.body.length);
      out.writeUInt32BE(frame.seq, 1);
      out[5] = id.length;
      id.copy(out, 6);
      out.set(frame.body, 6 + id.length);
      return out;
    }
    case FRAME.sendAck: {
      const out = header(frame.type, 6);
      out.writeUInt32BE(frame.req, 1);
      out[5] = frame.ok ? 1 : 0;
      return out;
    }
    case FRAME.ack:
    case FRAME.ackResult: {
      const out = header(frame.type, 9);
      out.writeUInt32BE(frame.req, 1);
      out.writeUInt32BE(frame.type === FRAME.ack ? frame.upTo : frame.deleted, 5);
      return out;
    }
  }
}

/** Decodes one frame; returns undefined for anything malformed (the caller drops it). */
export function decodeFrame(data: Buffer): Frame | undefined {
  const type = data[0];
  try {
    switch (type) {
      case FRAME.send: {
        const toLen = data[5] ?? 0;
        const idLen = data[6 + toLen] ?? 0;
        const bodyAt = 7 + toLen + idLen;
        if (bodyAt > data.length) return undefined;
        return {
          type,
          req: data.readUInt32BE(1),
          to: data.toString('latin1', 6, 6 + toLen),
          id: data.toString('latin1', 7 + toLen, bodyAt),
          body: data.subarray(bodyAt),
        };
      }
      case FRAME.envelope: {
        const idLen = data[5] ?? 0;
        if (6 + idLen > data.length) return undefined;
        return { type, seq: data.readUInt32BE(1), id: data.toString('latin1', 6, 6 + idLen), body: data.subarray(6 + idLen) };
      }
      case FRAME.sendAck:
        return { type, req: data.readUInt32BE(1), ok: data[5] === 1 };
      case FRAME.ack:
        return { type, req: data.readUInt32BE(1), upTo: data.readUInt32BE(5) };
      case FRAME.ackResult:
        return { type, req: data.readUInt32BE(1), deleted: data.readUInt32BE(5) };
      default:
        return undefined;
    }
  } catch {
    return undefined; // a short frame makes readUInt32BE throw RangeError
  }
}
