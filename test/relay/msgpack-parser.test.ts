/**
 * The wire parser shared by the relay and the SDK (protocol/msgpack-parser.ts): whatever
 * byte array a sender holds leaves as exactly its bytes in msgpack bin, every body arrives as a
 * plain Uint8Array that the relay's validators accept, and a frame that is not binary or is
 * shorter than its headers declare is refused. The codec itself: test/relay/msgpack.test.ts.
 */
import * as stockMsgpackParser from 'socket.io-msgpack-parser';
import { describe, expect, it } from 'vitest';
import { checkEnvelope } from '../../server/gateway/validators.js';
import { msgpackParser } from '../../protocol/msgpack-parser.js';

interface Packet {
  type: number;
  nsp: string;
  data?: unknown;
  id?: number;
}

function encode(packet: Packet, parser: { Encoder: new () => { encode(p: Packet): unknown } } = msgpackParser): Buffer {
  return (new parser.Encoder().encode(packet) as Buffer[])[0]!;
}

function decode(frame: unknown): Packet {
  const decoder = new msgpackParser.Decoder();
  let packet: Packet | undefined;
  decoder.on('decoded', (p: Packet) => (packet = p));
  decoder.add(frame);
  return packet!;
}

const envelope = (body: unknown) => ({ to: 'A'.repeat(43), id: 'B'.repeat(22), body });

describe('msgpack wire parser', () => {
  it('sends a view, an ArrayBuffer or a Buffer as msgpack bin of exactly its bytes', () => {
    const whole = Uint8Array.from({ length: 64 }, (_, i) => i);
    for (const body of [whole.subarray(8, 24), whole.slice(8, 24).buffer, Buffer.from(whole.subarray(8, 24))]) {
      const frame = encode({ type: 2, nsp: '/', data: ['send', [envelope(body)]], id: 1 });
      expect(frame.includes(Buffer.concat([Buffer.from([0xc4, 16]), whole.subarray(8, 24)]))).toBe(true);
      const [, [received]] = decode(frame).data as [string, [{ body: Uint8Array }]];
      expect(received.body.constructor).toBe(Uint8Array);
      expect(received.body).toEqual(whole.subarray(8, 24));
      expect(checkEnvelope.Check(received)).toBe(true);
    }
  });

  it('hands bodies of stock msgpack senders over as plain Uint8Arrays (ext and bin alike)', () => {
    const bytes = Uint8Array.from([1, 2, 3]);
    for (const body of [bytes, Buffer.from(bytes)]) {
      const packet = decode(encode({ type: 2, nsp: '/', data: ['envelopes', [{ id: 'x', seq: 1, body }]] }, stockMsgpackParser));
      const [, [received]] = packet.data as [string, [{ body: Uint8Array }]];
      expect(received.body.constructor).toBe(Uint8Array);
      expect(received.body).toEqual(bytes);
    }
  });

  it('refuses a map with a __proto__ key, at any depth, instead of letting it set a prototype', () => {
    // An own "__proto__" key, as a hostile sender would encode it.
    const hostile = JSON.parse('{"__proto__": {"to": "inherited"}, "id": "x"}') as object;
    for (const data of [['send', hostile], ['send', [{ nested: [hostile] }]]]) {
      const frame = encode({ type: 2, nsp: '/', data }, stockMsgpackParser);
      expect(() => decode(frame)).toThrow(/__proto__/);
    }
    // The key spelled as str8 instead of fixstr (notepack decodes both) is refused too.
    const str = (text: string) => [0xa0 + text.length, ...Buffer.from(text)];
    const str8Key = Buffer.from([
      0x83, ...str('type'), 0x02, ...str('nsp'), ...str('/'), ...str('data'),
      0x92, ...str('send'), 0x81, 0xd9, 0x09, ...Buffer.from('__proto__'), 0x81, ...str('to'), ...str('x'),
    ]);
    expect(() => decode(str8Key)).toThrow(/__proto__/);
    // The same shape without that key decodes.
    expect(decode(encode({ type: 2, nsp: '/', data: ['send', { to: 'a', id: 'x' }] }, stockMsgpackParser)).data).toEqual(['send', { to: 'a', id: 'x' }]);
  });

  it('leaves the sender’s objects untouched', () => {
    const body = Uint8Array.from([7]);
    const sent = envelope(body);
    encode({ type: 2, nsp: '/', data: ['send', sent] });
    expect(sent.body).toBe(body);
  });

  it('refuses text frames and frames shorter than their headers declare', () => {
    expect(() => decode('42["send",{}]')).toThrow(/binary/);
    const frame = encode({ type: 2, nsp: '/', data: ['send', [envelope(new Uint8Array(300)), envelope('text'.repeat(80))], { n: [1.5, -7, 2 ** 40, null, true] }], id: 70000 });
    expect(() => decode(frame)).not.toThrow();
    for (let cut = 0; cut < frame.length; cut++) expect(() => decode(frame.subarray(0, cut)), `cut at ${cut}`).toThrow(/shorter/);
    // 4 GiB declared by a 6-byte frame (ext 32, array 32): refused without allocating anything.
    expect(() => decode(Buffer.from([0xc9, 0xff, 0xff, 0xff, 0xff, 0]))).toThrow(/shorter/);
    expect(() => decode(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0]))).toThrow(/shorter/);
  });
});
