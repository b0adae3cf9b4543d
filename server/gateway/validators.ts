/**
 * Runtime validators for every socket payload, compiled once from TypeBox schemas (the same
 * schema-first approach as the HTTP routes). Size caps are checked after shape, so a shape error
 * is `invalid` and an oversize one `too_large`.
 */
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Key32, PROTOCOL_VERSION, Timestamp } from '../../protocol/http.js';

const B64 = '^[A-Za-z0-9_-]+$';
/** base64url of 16 bytes: 22 characters. */
export const EnvelopeId = Type.String({ pattern: B64, minLength: 22, maxLength: 22 });

export const OutgoingEnvelopeSchema = Type.Object(
  {
    to: Key32,
    id: EnvelopeId,
    body: Type.Uint8Array(),
    ephemeral: Type.Optional(Type.Boolean()),
    list: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  },
  { additionalProperties: false },
);

export const AckRequestSchema = Type.Union([
  Type.Object({ upTo: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }) }, { additionalProperties: false }),
  Type.Object({ ids: Type.Array(EnvelopeId, { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
]);

export const HandshakeAuthSchema = Type.Object(
  {
    v: Type.Literal(PROTOCOL_VERSION),
    deviceId: Key32,
    timestamp: Timestamp,
    nonce: Type.String({ pattern: B64, minLength: 22, maxLength: 22 }),
    signature: Type.String({ pattern: B64, minLength: 86, maxLength: 86 }),
  },
  { additionalProperties: false },
);

export const checkEnvelope = TypeCompiler.Compile(OutgoingEnvelopeSchema);
export const checkAckRequest = TypeCompiler.Compile(AckRequestSchema);
export const checkHandshakeAuth = TypeCompiler.Compile(HandshakeAuthSchema);
