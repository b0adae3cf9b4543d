/** A bounds-checked cursor over a binary encoding: every read past the end is `invalid_encoding`. */
import { CryptoError } from './errors.js';

export class BytesReader {
  private offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  get position(): number {
    return this.offset;
  }

  take(length: number): Uint8Array {
    if (length < 0 || length > this.remaining) throw new CryptoError('invalid_encoding', 'truncated encoding');
    const out = this.bytes.slice(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  u8(): number {
    return this.take(1)[0] as number;
  }

  u16(): number {
    const b = this.take(2);
    return ((b[0] as number) << 8) | (b[1] as number);
  }

  u32(): number {
    const b = this.take(4);
    return ((b[0] as number) * 2 ** 24) + (((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number));
  }

  /** u16 BE length ‖ bytes. */
  field(): Uint8Array {
    return this.take(this.u16());
  }

  rest(): Uint8Array {
    return this.take(this.remaining);
  }

  end(): void {
    if (this.remaining !== 0) throw new CryptoError('invalid_encoding', 'trailing bytes');
  }
}
