/**
 * Web Push on the wire (docs/relay-api.md §"Web Push"): the relay's VAPID public key, and the
 * PushSubscription a device registers so the relay can wake it while no socket of it is
 * connected. Shapes only; the relay checks the endpoint's URL and the keys' bytes itself
 * (server/push/subscription-check.ts).
 *
 * The push the relay sends carries nothing about the message (docs/PROTOCOL.md §"Web Push"):
 * the service worker that receives it holds no keys and could not open a message anyway.
 */
import { Type, type Static } from '@sinclair/typebox';

/** Unpadded base64url, as PushSubscription.toJSON() and the VAPID specification write keys. */
const B64 = '^[A-Za-z0-9_-]+$';

/** A push service's URL; real ones are a few hundred characters at most. */
export const PUSH_ENDPOINT_MAX_CHARS = 2048;

/** GET /v2/push/key — the relay's VAPID public key: an uncompressed P-256 point (65 bytes). */
export const PushKey = Type.Object({ publicKey: Type.String({ pattern: B64, minLength: 87, maxLength: 87 }) }, { additionalProperties: false });

/**
 * PUT /v2/push/subscription — PushSubscription.toJSON() as browsers give it: the endpoint, the
 * subscription's P-256 key (p256dh, 65 bytes) and its auth secret (16 bytes). `expirationTime`
 * is accepted (browsers include it, mostly null) and not kept.
 */
export const PushSubscriptionBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 1, maxLength: PUSH_ENDPOINT_MAX_CHARS }),
    expirationTime: Type.Optional(Type.Union([Type.Null(), Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })])),
    keys: Type.Object(
      {
        p256dh: Type.String({ pattern: B64, minLength: 87, maxLength: 87 }),
        auth: Type.String({ pattern: B64, minLength: 22, maxLength: 22 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

/** The answer to PUT and DELETE /v2/push/subscription: whether this device now gets pushes. */
export const PushStatus = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false });

export type PushKeyJson = Static<typeof PushKey>;
export type PushSubscriptionJson = Static<typeof PushSubscriptionBody>;
export type PushStatusJson = Static<typeof PushStatus>;
