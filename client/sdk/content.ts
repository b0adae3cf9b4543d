/**
 * The plaintext inside a ratchet message: versioned JSON `{v, type, id, ts, heads, …}`,
 * validated with TypeBox on the way in (a peer's bytes are untrusted input like any other). The
 * crypto core pads it before encryption, so its length leaks little. docs/PROTOCOL.md §"Content"
 * lists every field.
 *
 * Every content carries `heads` (protocol v2): the head of the sender's own device list and the
 * head of the recipient's list it was encrypted to, so a relay that shows different device sets
 * to different people is caught on the next message (list-heads.ts).
 *
 * - `text`: a message. `to` names the 1:1 recipient (so the sender's own other devices, which
 *   get the same content, know the conversation); `groupId` marks a group message.
 * - `receipt`: delivered / read, about message ids the receiver got.
 * - `attachment`: a file as a message (counted, ordered and confirmed like a text): a pointer to
 *   its encrypted blob on the relay (id, key, digest, size, type, name, image size, thumbnail;
 *   Signal's AttachmentPointer is the model) and an optional caption.
 * - `typing`: sent as an ephemeral envelope (never stored by the relay).
 * - `group`: the full state of a group after a change (epoch, members, admins), sent to old and
 *   new members.
 * - `linked`: own devices only — a newly linked device announces itself; the device that
 *   approved the link takes it as the confirmation and answers with `sync`.
 * - `sync`: own devices only — contacts with their pinned keys and verified marks, groups with
 *   members, conversations and device names (never message history).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { fromUtf8, utf8 } from '../../crypto/index.js';
import { SdkError } from './errors.js';

export const CONTENT_VERSION = 2;
/** The longest text (or caption) a receiver accepts, in UTF-16 code units (JavaScript's `length`). */
export const MAX_TEXT_LENGTH = 16_000;
/** Sync chunks: small enough that one content stays far below the relay's 64 KiB envelope cap. */
export const SYNC_CHUNK = 100;

const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' });
const HandleText = Type.String({ pattern: '^[a-z0-9_.-]{3,32}$' });
const Key = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });
const Head = Type.Object({ version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), hash: Key }, { additionalProperties: false });
export const Heads = Type.Object({ from: Head, to: Head }, { additionalProperties: false });
const Base = { v: Type.Literal(CONTENT_VERSION), id: Id, ts: Type.Integer({ minimum: 0 }), heads: Heads };

export const TextContent = Type.Object({
  ...Base,
  type: Type.Literal('text'),
  /**
   * The sending device's count of texts in this conversation (1, 2, …): receivers order and
   * find gaps by it (a message the relay dropped shows as missing), not by arrival.
   */
  n: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  text: Type.String({ maxLength: MAX_TEXT_LENGTH }),
  to: Type.Optional(HandleText),
  groupId: Type.Optional(Id),
});

/** The largest file the SDK sends (the relay caps blobs at 110 MiB: this plus padding and framing). */
export const MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024;
/** Inline thumbnails are small JPEGs: they travel inside the message, under the 64 KiB envelope cap. */
export const MAX_THUMBNAIL_BYTES = 8 * 1024;
const Base64Url = (bytes: number) => Type.String({ pattern: `^[A-Za-z0-9_-]{1,${Math.ceil((bytes * 4) / 3)}}$` });

/**
 * Where a file's encrypted blob is and how to open it (docs/PROTOCOL.md §22.4). Lengths are
 * checked here; the key and digest are decoded (canonical base64url, 32 bytes) when used.
 */
export const AttachmentPointer = Type.Object({
  /** The relay's blob id (a capability: whoever has it may download the blob). */
  id: Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$' }),
  key: Key,
  /** BLAKE2b-256 of the whole blob. */
  digest: Key,
  /** The file's true size in bytes (the blob is padded). */
  size: Type.Integer({ minimum: 0, maximum: MAX_ATTACHMENT_BYTES }),
  contentType: Type.String({ pattern: "^[A-Za-z0-9!#$&^_.+-]{1,63}/[A-Za-z0-9!#$&^_.+-]{1,63}$" }),
  /** Shown and used as a suggestion only: a receiver never writes to a path it names. */
  fileName: Type.String({ pattern: '^[^\\u0000-\\u001f\\u007f]{1,255}$' }),
  width: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535 })),
  height: Type.Optional(Type.Integer({ minimum: 1, maximum: 65_535 })),
  /** A JPEG of at most 8 KiB, inline (so the app can show it before downloading). */
  thumbnail: Type.Optional(Base64Url(MAX_THUMBNAIL_BYTES)),
}, { additionalProperties: false });

export const AttachmentContent = Type.Object({
  ...Base,
  type: Type.Literal('attachment'),
  /** Counted with the texts of the conversation (one count per sending device): see TextContent. */
  n: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  attachment: AttachmentPointer,
  caption: Type.Optional(Type.String({ maxLength: MAX_TEXT_LENGTH })),
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

/**
 * The whole state of a group after a change. `epoch` counts changes (1 at creation) and a member
 * takes only a newer epoch than it holds, from an admin of the state it holds (a member may also
 * remove just itself): an old update replayed, or a second update of the same epoch, changes
 * nothing. `admins` are the members who may change the group (the creator first).
 */
export const GroupContent = Type.Object({
  ...Base,
  type: Type.Literal('group'),
  groupId: Id,
  epoch: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  name: Type.String({ maxLength: 200 }),
  members: Type.Array(HandleText, { minItems: 1, maxItems: 256 }),
  admins: Type.Array(HandleText, { minItems: 1, maxItems: 256 }),
});

export const LinkedContent = Type.Object({
  ...Base,
  type: Type.Literal('linked'),
});

/**
 * Sent to the one device whose message we could not decrypt, in a NEW session (a fresh prekey
 * message): that device takes the new session and sends again what we have not confirmed
 * (libsignal's DecryptionErrorMessage). Carries no detail of the failed message.
 */
export const DecryptionErrorContent = Type.Object({
  ...Base,
  type: Type.Literal('decryption_error'),
});

const ConversationRef = Type.Union([
  Type.Object({ kind: Type.Literal('direct'), handle: HandleText }, { additionalProperties: false }),
  Type.Object({ kind: Type.Literal('group'), groupId: Id }, { additionalProperties: false }),
]);

export const SyncContent = Type.Object({
  ...Base,
  type: Type.Literal('sync'),
  /** True for the account state sent to a new device (the last chunk ends it); false for a rename. */
  full: Type.Boolean(),
  contacts: Type.Array(Type.Object({ handle: HandleText, identityKey: Key, verified: Type.Boolean() }, { additionalProperties: false }), { maxItems: SYNC_CHUNK }),
  groups: Type.Array(Type.Object({
    groupId: Id, epoch: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), name: Type.String({ maxLength: 200 }),
    members: Type.Array(HandleText, { minItems: 1, maxItems: 256 }), admins: Type.Array(HandleText, { minItems: 1, maxItems: 256 }),
    updatedAt: Type.Integer({ minimum: 0 }),
  }, { additionalProperties: false }), { maxItems: SYNC_CHUNK }),
  conversations: Type.Array(ConversationRef, { maxItems: SYNC_CHUNK }),
  deviceNames: Type.Array(Type.Object({ deviceId: Key, name: Type.String({ minLength: 1, maxLength: 64 }), at: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }), { maxItems: 64 }),
});

export const Content = Type.Union([TextContent, AttachmentContent, ReceiptContent, TypingContent, GroupContent, LinkedContent, SyncContent, DecryptionErrorContent]);

export type TextContent = Static<typeof TextContent>;
export type AttachmentContent = Static<typeof AttachmentContent>;
export type AttachmentPointer = Static<typeof AttachmentPointer>;
export type ReceiptContent = Static<typeof ReceiptContent>;
export type TypingContent = Static<typeof TypingContent>;
export type GroupContent = Static<typeof GroupContent>;
export type SyncContent = Static<typeof SyncContent>;
export type ContentHeads = Static<typeof Heads>;
export type Content = Static<typeof Content>;

/** Distributes over the union so callers can build any variant without `v` and `heads` (added per recipient). */
export type ContentDraft = Content extends infer C ? (C extends { v: number } ? Omit<C, 'v' | 'heads'> : never) : never;

export function encodeContent(content: ContentDraft, heads: ContentHeads): Uint8Array {
  return utf8(JSON.stringify({ v: CONTENT_VERSION, ...content, heads }));
}

export function decodeContent(bytes: Uint8Array): Content {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromUtf8(bytes));
  } catch (cause) {
    throw new SdkError('invalid_content', 'content is not JSON', { cause });
  }
  if (typeof parsed === 'object' && parsed !== null && (parsed as { v?: unknown }).v !== CONTENT_VERSION) {
    throw new SdkError('unsupported_version', `content version ${String((parsed as { v?: unknown }).v)} (this client speaks ${CONTENT_VERSION})`);
  }
  if (!Value.Check(Content, parsed)) throw new SdkError('invalid_content', 'content does not match any known type');
  return parsed;
}
