/**
 * A source read to its end but passed on only up to a byte limit. An HTTP request body must be
 * consumed even when the relay keeps none of it: a stream left half read would hold the
 * connection, and one destroyed early (breaking out of `for await`) resets it before the client
 * can read the 413 or 409. So the stores never break out of a body; they drop what they refuse.
 */
export class CappedSource implements AsyncIterable<Uint8Array> {
  /** Set once the source held more than the limit. */
  overflowed = false;

  constructor(
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly limit: number,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    let left = this.limit;
    for await (const chunk of this.source) {
      if (chunk.byteLength <= left) {
        left -= chunk.byteLength;
        if (chunk.byteLength > 0) yield chunk;
        continue;
      }
      this.overflowed = true;
      if (left > 0) yield chunk.subarray(0, left);
      left = 0;
    }
  }
}

/** Reads a source to its end, keeping nothing (a refused body still has to be consumed). */
export async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of source) void _;
}
