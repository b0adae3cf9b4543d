/**
 * The `attachment` content as a receiver checks it (docs/PROTOCOL.md §22.4): a well-formed
 * pointer decodes; each malformed field, an unknown pointer field and a missing count are
 * `invalid_content`; the SDK refuses to send such a pointer in the first place.
 */
import { describe, expect, it } from 'vitest';
import { decodeContent, encodeContent, type AttachmentPointer, type ContentDraft, type ContentHeads } from '../../client/sdk/content.js';
import { checkPointer } from '../../client/sdk/attachments.js';
import { ready, toBase64Url, utf8 } from '../../crypto/index.js';

await ready();

const key = toBase64Url(new Uint8Array(32).fill(7));
const heads: ContentHeads = { from: { version: 1, hash: key }, to: { version: 1, hash: key } };
const pointer: AttachmentPointer = {
  id: toBase64Url(new Uint8Array(32).fill(1)), key, digest: toBase64Url(new Uint8Array(32).fill(2)), size: 3_000,
  contentType: 'image/png', fileName: 'holiday.png', width: 640, height: 480, thumbnail: toBase64Url(new Uint8Array(8 * 1024)),
};
const content = (attachment: unknown, extra: Record<string, unknown> = {}): Uint8Array =>
  encodeContent({ type: 'attachment', id: 'q1w2e3r4t5y6u7i8o9p0aa', ts: 1, n: 1, to: 'bob', attachment, ...extra } as unknown as ContentDraft, heads);

function code(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('attachment content', () => {
  it('decodes a well-formed pointer with a caption', () => {
    expect(decodeContent(content(pointer, { caption: 'look' }))).toMatchObject({ type: 'attachment', n: 1, caption: 'look', attachment: pointer });
    const { width: _w, height: _h, thumbnail: _t, ...bare } = pointer;
    expect(decodeContent(content({ ...bare, size: 0 }))).toMatchObject({ attachment: { size: 0 } });
  });

  const malformed: Array<[string, Record<string, unknown>]> = [
    ['a thumbnail over 8 KiB', { thumbnail: toBase64Url(new Uint8Array(8 * 1024 + 1)) }],
    ['a size over 100 MiB', { size: 100 * 1024 * 1024 + 1 }],
    ['a negative size', { size: -1 }],
    ['a fractional size', { size: 1.5 }],
    ['a short key', { key: key.slice(1) }],
    ['a digest that is not base64url', { digest: `${key.slice(1)}+` }],
    ['a content type without a subtype', { contentType: 'image' }],
    ['a content type with parameters', { contentType: 'text/plain; charset=utf-8' }],
    ['an empty file name', { fileName: '' }],
    ['a file name with a control character', { fileName: 'a\nb.png' }],
    ['a file name over 255 characters', { fileName: 'a'.repeat(256) }],
    ['a width of 0', { width: 0 }],
    ['a height over 65535', { height: 65_536 }],
    ['a short blob id', { id: 'abc' }],
    ['a blob id with a slash', { id: '../../../v2/accounts' }],
    ['an unknown field', { url: 'https://elsewhere.example/blob' }],
  ];

  it.each(malformed)('refuses %s', (_what, change) => {
    expect(code(() => decodeContent(content({ ...pointer, ...change })))).toBe('invalid_content');
    expect(code(() => checkPointer({ ...pointer, ...change }))).toBe('invalid_content');
  });

  it('refuses a pointer without its count, or without a pointer', () => {
    expect(code(() => decodeContent(utf8(JSON.stringify({ v: 2, type: 'attachment', id: 'q1w2e3r4t5y6u7i8o9p0aa', ts: 1, attachment: pointer, heads }))))).toBe('invalid_content');
    expect(code(() => decodeContent(content(undefined)))).toBe('invalid_content');
  });

  it('refuses a non-canonical key when the pointer is used', () => {
    // 43 base64url characters whose last one carries stray low bits: the schema lets it by, the decoding does not.
    expect(code(() => checkPointer({ ...pointer, key: `${key.slice(0, 42)}B` }))).toBe('invalid_content');
  });
});
