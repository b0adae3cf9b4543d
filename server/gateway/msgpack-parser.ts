/**
 * The opt-in msgpack wire parser (`--parser msgpack`): an event and its binary bodies travel as
 * one WebSocket frame instead of a header frame plus one frame per attachment. Every client must
 * use socket.io-msgpack-parser too. Measured in README "Performance".
 */
import * as msgpack from 'socket.io-msgpack-parser';

/**
 * msgpack decodes a binary that the sender encoded from a plain Uint8Array (browsers) as an
 * ArrayBuffer; event payloads are turned back into Uint8Array views so validation sees one type.
 */
function viewsFor(value: unknown, depth = 0): unknown {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (depth > 3 || value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map((v) => viewsFor(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = viewsFor(v, depth + 1);
  return out;
}

class MsgpackDecoder extends msgpack.Decoder {
  override emit(event: string, ...args: unknown[]): this {
    const packet = args[0] as { data?: unknown } | undefined;
    if (event === 'decoded' && packet && Array.isArray(packet.data)) packet.data = viewsFor(packet.data);
    return super.emit(event, ...args);
  }
}

export const msgpackParser = { Encoder: msgpack.Encoder, Decoder: MsgpackDecoder };
