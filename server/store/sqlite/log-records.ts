/**
 * The records of the queue log (queue-log.ts), framed so that recovery can tell a whole record
 * from a torn one: [u32 payload length][u32 CRC-32 of the payload][payload], little-endian.
 * Recovery stops at the first frame that is short, empty or fails its checksum: every record
 * after it was written after the last completed sync, so no sender was told it was stored.
 *
 * The checksum starts from the file's generation. Log files are reused (queue-log.ts), so past
 * the last record of this generation lie the records of an older one: their checksums cannot
 * match (a CRC's start value changes it for every payload), so recovery stops there too.
 *
 * Payloads:
 * - stored:  [1][u8 device id length][device id][f64 seq][f64 expiresAt][u8 id length][id][body]
 * - removed: [2][u8 device id length][device id][u32 count][f64 seq × count]
 * Device ids and envelope ids are short base64url strings (validated before they get here).
 */
import { crc32 } from 'node:zlib';

export interface StoredRecord {
  kind: 'stored';
  deviceId: string;
  seq: number;
  expiresAt: number;
  id: string;
  /** A view into the record's own buffer. */
  body: Uint8Array;
}

export interface RemovedRecord {
  kind: 'removed';
  deviceId: string;
  seqs: number[];
}

export type LogRecord = StoredRecord | RemovedRecord;

const FRAME = 8;
const STORED = 1;
const REMOVED = 2;

/** A record with its length written and room for the checksum `seal` writes. */
function frame(payloadLength: number): { buf: Buffer; payload: Buffer } {
  const buf = Buffer.allocUnsafe(FRAME + payloadLength);
  buf.writeUInt32LE(payloadLength, 0);
  return { buf, payload: buf.subarray(FRAME) };
}

/** The checksum of a record written to the file of `generation`. */
const checksum = (payload: Buffer, generation: number): number => crc32(payload, generation >>> 0);

/** Writes the checksum for the file the record goes to; until then the record is not valid anywhere. */
export function seal(record: Buffer, generation: number): Buffer {
  record.writeUInt32LE(checksum(record.subarray(FRAME), generation), 4);
  return record;
}

function shortString(value: string, what: string): number {
  const length = Buffer.byteLength(value);
  if (length > 255) throw new RangeError(`${what} too long for the queue log`);
  return length;
}

/** One stored envelope, unsealed; `body` is copied in, and the returned body view points into the record. */
export function encodeStored(deviceId: string, seq: number, expiresAt: number, id: string, body: Uint8Array): { record: Buffer; body: Uint8Array } {
  const deviceLength = shortString(deviceId, 'device id');
  const idLength = shortString(id, 'envelope id');
  const { buf, payload } = frame(1 + 1 + deviceLength + 8 + 8 + 1 + idLength + body.byteLength);
  let at = payload.writeUInt8(STORED, 0);
  at = payload.writeUInt8(deviceLength, at);
  at += payload.write(deviceId, at, 'utf8');
  at = payload.writeDoubleLE(seq, at);
  at = payload.writeDoubleLE(expiresAt, at);
  at = payload.writeUInt8(idLength, at);
  at += payload.write(id, at, 'utf8');
  payload.set(body, at);
  return { record: buf, body: payload.subarray(at) };
}

/** The envelopes `seqs` of a device left the queue (acknowledged, expired or the device removed); unsealed. */
export function encodeRemoved(deviceId: string, seqs: readonly number[]): Buffer {
  const deviceLength = shortString(deviceId, 'device id');
  const { buf, payload } = frame(1 + 1 + deviceLength + 4 + 8 * seqs.length);
  let at = payload.writeUInt8(REMOVED, 0);
  at = payload.writeUInt8(deviceLength, at);
  at += payload.write(deviceId, at, 'utf8');
  at = payload.writeUInt32LE(seqs.length, at);
  for (const seq of seqs) at = payload.writeDoubleLE(seq, at);
  return buf;
}

/** The whole records of `generation` at the start of `data`, in order; stops at the first torn or foreign frame. */
export function* decodeRecords(data: Buffer, generation: number): Generator<LogRecord> {
  let at = 0;
  while (at + FRAME <= data.length) {
    const length = data.readUInt32LE(at);
    if (length === 0 || at + FRAME + length > data.length) return;
    const payload = data.subarray(at + FRAME, at + FRAME + length);
    if (checksum(payload, generation) !== data.readUInt32LE(at + 4)) return;
    const record = decodePayload(payload);
    if (record === undefined) return;
    yield record;
    at += FRAME + length;
  }
}

function decodePayload(payload: Buffer): LogRecord | undefined {
  try {
    const kind = payload.readUInt8(0);
    const deviceEnd = 2 + payload.readUInt8(1);
    const deviceId = payload.toString('utf8', 2, deviceEnd);
    if (kind === STORED) {
      const seq = payload.readDoubleLE(deviceEnd);
      const expiresAt = payload.readDoubleLE(deviceEnd + 8);
      const idStart = deviceEnd + 17;
      const idEnd = idStart + payload.readUInt8(deviceEnd + 16);
      if (idEnd > payload.length) return undefined;
      return { kind: 'stored', deviceId, seq, expiresAt, id: payload.toString('utf8', idStart, idEnd), body: payload.subarray(idEnd) };
    }
    if (kind === REMOVED) {
      const count = payload.readUInt32LE(deviceEnd);
      if (payload.length !== deviceEnd + 4 + 8 * count) return undefined;
      return { kind: 'removed', deviceId, seqs: Array.from({ length: count }, (_, i) => payload.readDoubleLE(deviceEnd + 4 + 8 * i)) };
    }
    return undefined;
  } catch {
    // A read past the end (RangeError): the checksum matched but the record is not ours.
    return undefined;
  }
}
