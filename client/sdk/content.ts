/**
 * The plaintext inside a ratchet message: versioned JSON `{v, type, id, ts, …}`, validated
 * with TypeBox on the way in (a peer's bytes are untrusted input like any other). The crypto
 * core pads it before encryption, so its length leaks little.
 *
 * - `text`: a message. `to` names the 1:1 recipient (so the sender's own other devices, which
 *   get the same content, know the conversation); `groupId` marks a group message.
 * - `receipt`: delivered / read, about message ids the receiver got.
 * - `typing`: sent as an ephemeral envelope (never stored by the relay).
 * - `group`: the full membership of a group after a change, sent to old and new members.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { fromUtf8, utf8 } from '../../crypto/index.js';
import { SdkError } from './errors.js';

export const CONTENT_VERSION = 1;
const MAX_TEXT = 16_000;

const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' });
const HandleText = Type.String({ pattern: '^[a-z0-9_.-]{3,32}$' });
const Base = { v: Type.Literal(CONTENT_VERSION), id: Id, ts: Type.Integer({ minimum: 0 }) };

export const TextContent = Type.Object({
  ...Base,
  type: Type.Literal('text'),
  text: Type.String({ maxLength: MAX_TEXT }),
  to: Type.Optional(HandleText),
  groupId: Type.Optional(Id),
});

export const ReceiptContent = Type.Object({
  ...Base,
  type: Type.Literal('receipt'),
  receipt: Type.Union([Type.Literal('delivered'), Type.Literal('read')]),
  messageIds: Type.Array(Id, { minItems: 1, maxItems: 500 }),
});

export const TypingContent = Type.Object({
  ...Base,
  type: Type.Literal('typing'),
  typing: Type.Boolean(),
  groupId: Type.Optional(Id),
});

export const GroupContent = Type.Object({
  ...Base,
  type: Type.Literal('group'),
  groupId: Id,
  name: Type.String({ maxLength: 200 }),
  members: Type.Array(HandleText, { minItems: 1, maxItems: 256 }),
});

export const Content = Type.Union([TextContent, ReceiptContent, TypingContent, GroupContent]);

export type TextContent = Static<typeof TextContent>;
export type ReceiptContent = Static<typeof ReceiptContent>;
export type TypingContent = Static<typeof TypingContent>;
export type GroupContent = Static<typeof GroupContent>;
export type Content = Static<typeof Content>;

/** Distributes over the union so callers can build any variant without `v`. */
export type ContentDraft = Content extends infer C ? (C extends { v: number } ? Omit<C, 'v'> : never) : never;

export function encodeContent(content: ContentDraft): Uint8Array {
  return utf8(JSON.stringify({ v: CONTENT_VERSION, ...content }));
}

export function decodeContent(bytes: Uint8Array): Content {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(bytes));
  } catch (cause) {
    throw new SdkError('invalid_content', 'content is not JSON', { cause });
  }
  if (!Value.Check(Content, parsed)) throw new SdkError('invalid_content', 'content does not match any known type');
  return parsed;
}
