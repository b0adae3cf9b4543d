/**
 * The one `Range` form downloads honour: a single byte range (`bytes=a-b`, `bytes=a-`, or the
 * suffix `bytes=-n`), enough for a client to resume a download. Anything else — several ranges,
 * another unit, a malformed or backwards range — is ignored and the whole blob is sent, as RFC
 * 9110 §14.2 allows. A range starting at or past the end (or an empty suffix) cannot be served.
 */
export type ByteRange =
  | { kind: 'whole' }
  /** [start, end): `end` exclusive. */
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

const RANGE = /^bytes=(\d*)-(\d*)$/;

export function parseRange(header: string | undefined, size: number): ByteRange {
  const match = header === undefined ? null : RANGE.exec(header.trim());
  if (!match) return { kind: 'whole' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'whole' };
  if (first === '') {
    const suffix = Number(last);
    return suffix === 0 ? { kind: 'unsatisfiable' } : { kind: 'partial', start: Math.max(0, size - suffix), end: size };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: last === '' ? size : Math.min(Number(last) + 1, size) };
}
