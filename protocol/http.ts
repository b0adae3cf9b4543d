/**
 * JSON shapes of the relay's HTTP API as TypeBox schemas: the routes validate with them and
 * the SDK imports their static types. All keys and signatures are unpadded base64url.
 * Signed requests carry `x-sealpost-timestamp`, `x-sealpost-nonce` and
 * `x-sealpost-device-signature` over crypto/statements.ts `signRequest` by a device key (see
 * docs/PROTOCOL.md §"Signed requests"). In protocol v2 the account identity key signs one
 * request only, the recovery lookup of its own device list; its authority otherwise travels as a
 * signed device list.
 */
import { Type, type Static } from '@sinclair/typebox';

const B64 = '^[A-Za-z0-9_-]+$';
export const Key32 = Type.String({ pattern: B64, minLength: 43, maxLength: 43 });
export const Signature64 = Type.String({ pattern: B64, minLength: 86, maxLength: 86 });
export const Handle = Type.String({ pattern: '^[a-z0-9_.-]{3,32}$' });
export const KeyId = Type.Integer({ minimum: 0, maximum: 0xffffffff });
export const Timestamp = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const HEADER_TIMESTAMP = 'x-sealpost-timestamp';
export const HEADER_NONCE = 'x-sealpost-nonce';
export const HEADER_DEVICE_SIGNATURE = 'x-sealpost-device-signature';
/** Names the signing device where the path does not (bundle claims): a registered device id. */
export const HEADER_DEVICE_ID = 'x-sealpost-device-id';

/** Protocol version of this relay's routes (`/v2/...`) and socket handshake (`auth.v`). */
export const PROTOCOL_VERSION = 2;

export const SignedPrekey = Type.Object(
  { keyId: KeyId, publicKey: Key32, signature: Signature64 },
  { additionalProperties: false },
);

export const OneTimePrekey = Type.Object({ keyId: KeyId, publicKey: Key32 }, { additionalProperties: false });

/** One entry of a signed device list (crypto/device-list.ts). */
export const DeviceListDevice = Type.Object({ deviceId: Key32, createdAt: Timestamp }, { additionalProperties: false });

/**
 * The account authority's signed statement of the account's devices; `version` strictly
 * increases. The relay keeps only the latest and serves it on lookup.
 */
export const SignedDeviceList = Type.Object(
  {
    handle: Handle,
    version: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    time: Timestamp,
    devices: Type.Array(DeviceListDevice, { minItems: 1, maxItems: 64 }),
    signature: Signature64,
  },
  { additionalProperties: false },
);

/** A device's public keys as it registers them (its signed prekey is signed by its own key). */
export const DeviceRegistration = Type.Object(
  {
    deviceId: Key32,
    signedPrekey: SignedPrekey,
    oneTimePrekeys: Type.Array(OneTimePrekey, { maxItems: 100 }),
  },
  { additionalProperties: false },
);

/**
 * POST /v2/accounts — signed by the device key. The device list (version ≥ 1, naming exactly
 * this device) is the proof of possession of the identity key.
 */
export const CreateAccountBody = Type.Object(
  { handle: Handle, identityKey: Key32, device: DeviceRegistration, deviceList: SignedDeviceList },
  { additionalProperties: false },
);

/**
 * POST /v2/accounts/:handle/devices — a linked or recovered device registers itself, signed by
 * its own key, with a NEW device list (higher version) that names it. Registered devices the
 * list leaves out are removed in the same transaction (recovery).
 */
export const AddDeviceBody = Type.Object({ device: DeviceRegistration, deviceList: SignedDeviceList }, { additionalProperties: false });

/** PUT /v2/accounts/:handle/device-list — the authority publishes a newer list (removal, renewal). */
export const PublishDeviceListBody = Type.Object({ deviceList: SignedDeviceList }, { additionalProperties: false });

export const DeviceCreated = Type.Object({ handle: Handle, deviceId: Key32 });

export const DeviceListPublished = Type.Object({ version: Type.Integer({ minimum: 1 }), removed: Type.Array(Key32) });

export const PublicDevice = Type.Object({ deviceId: Key32, signedPrekey: SignedPrekey });

/** GET /v2/accounts/:handle */
export const AccountView = Type.Object({
  handle: Handle,
  identityKey: Key32,
  deviceList: SignedDeviceList,
  devices: Type.Array(PublicDevice),
});

/**
 * GET /v2/accounts/:handle/device-list — the recovery lookup, signed by the account identity key
 * (the recovery key): the newest list, so a recovering device can sign the next version.
 */
export const RecoveryView = Type.Object({ handle: Handle, identityKey: Key32, deviceList: SignedDeviceList });
export type RecoveryViewJson = Static<typeof RecoveryView>;

/**
 * POST /v2/devices/:deviceId/bundle — signed by a registered device (named in
 * x-sealpost-device-id); consumes the oldest one-time prekey, if any.
 */
export const PrekeyBundle = Type.Object({
  handle: Handle,
  identityKey: Key32,
  deviceId: Key32,
  signedPrekey: SignedPrekey,
  oneTimePrekey: Type.Optional(OneTimePrekey),
});

/** PUT /v2/devices/:deviceId/prekeys — signed by that device's key. */
export const UploadPrekeysBody = Type.Object(
  { signedPrekey: Type.Optional(SignedPrekey), oneTimePrekeys: Type.Optional(Type.Array(OneTimePrekey, { maxItems: 100 })) },
  { additionalProperties: false },
);

export const PrekeyStatus = Type.Object({ oneTimePrekeys: Type.Integer({ minimum: 0 }) });

export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});

export type SignedPrekeyJson = Static<typeof SignedPrekey>;
export type OneTimePrekeyJson = Static<typeof OneTimePrekey>;
export type DeviceRegistrationJson = Static<typeof DeviceRegistration>;
export type SignedDeviceListJson = Static<typeof SignedDeviceList>;
export type CreateAccountRequest = Static<typeof CreateAccountBody>;
export type PublishDeviceListRequest = Static<typeof PublishDeviceListBody>;
export type DeviceListPublishedJson = Static<typeof DeviceListPublished>;
export type AddDeviceRequest = Static<typeof AddDeviceBody>;
export type AccountViewJson = Static<typeof AccountView>;
export type PublicDeviceJson = Static<typeof PublicDevice>;
export type PrekeyBundleJson = Static<typeof PrekeyBundle>;
export type UploadPrekeysRequest = Static<typeof UploadPrekeysBody>;
export type PrekeyStatusJson = Static<typeof PrekeyStatus>;

// --- Added by the relay (see docs/relay-api.md §"Provisioning mailbox"): device linking. ---

/** Largest provisioning blob: base64url of 64 KiB. */
export const PROVISIONING_BODY_MAX_CHARS = Math.ceil((64 * 1024 * 4) / 3);

/** PUT /v2/provisioning/:deviceId — unauthenticated, in memory, at most 5 per id, 10 minutes. */
export const ProvisioningPutBody = Type.Object(
  { body: Type.String({ pattern: B64, minLength: 1, maxLength: PROVISIONING_BODY_MAX_CHARS }) },
  { additionalProperties: false },
);

/** POST /v2/provisioning/:deviceId/claim — signed by that device key; returns and deletes the blobs. */
export const ProvisioningClaimed = Type.Object({ bodies: Type.Array(Type.String()) });

export const HandleParams = Type.Object({ handle: Handle }, { additionalProperties: false });
export const DeviceParams = Type.Object({ deviceId: Key32 }, { additionalProperties: false });
export const HandleDeviceParams = Type.Object({ handle: Handle, deviceId: Key32 }, { additionalProperties: false });

export type ProvisioningPutRequest = Static<typeof ProvisioningPutBody>;
export type ProvisioningClaimedJson = Static<typeof ProvisioningClaimed>;

// --- Attachments (docs/relay-api.md §"Attachments"): opaque encrypted blobs under random ids. ---

/** An attachment id or upload token: base64url of 32 random bytes. */
export const AttachmentId = Type.String({ pattern: B64, minLength: 43, maxLength: 43 });
export const UploadToken = Type.String({ pattern: B64, minLength: 43, maxLength: 43 });

/** PATCH bodies: raw bytes of the blob from the offset in `Upload-Offset`. */
export const UPLOAD_CONTENT_TYPE = 'application/offset+octet-stream';
export const HEADER_UPLOAD_OFFSET = 'upload-offset';
export const HEADER_UPLOAD_LENGTH = 'upload-length';
/** Most body bytes one PATCH may carry (clients send 4 MiB). */
export const ATTACHMENT_PATCH_MAX_BYTES = 8 * 1024 * 1024;
/** How long an unfinished upload is kept after its POST (at most the blob's own expiry). */
export const ATTACHMENT_UPLOAD_WINDOW_MS = 24 * 3600 * 1000;

/** POST /v2/attachments — signed by a registered device (named in x-sealpost-device-id). */
export const CreateAttachmentBody = Type.Object(
  { size: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) },
  { additionalProperties: false },
);

/** 201 reply: where to upload, with what, and when the blob expires (ms since the epoch). */
export const AttachmentCreated = Type.Object({ id: AttachmentId, uploadToken: UploadToken, expiresAt: Timestamp });

export const AttachmentParams = Type.Object({ id: AttachmentId }, { additionalProperties: false });

/** Headers of a signed request naming its device (checked by the handler; shapes only here). */
export const SignedRequestHeaders = Type.Object({
  [HEADER_DEVICE_ID]: Type.Optional(Type.String({ maxLength: 200 })),
  [HEADER_TIMESTAMP]: Type.Optional(Type.String({ maxLength: 200 })),
  [HEADER_NONCE]: Type.Optional(Type.String({ maxLength: 200 })),
  [HEADER_DEVICE_SIGNATURE]: Type.Optional(Type.String({ maxLength: 200 })),
});

/** HEAD /v2/attachments/:id — `Authorization: Bearer <uploadToken>` (a missing one is 401, not 400). */
export const UploadTokenHeaders = Type.Object({ authorization: Type.Optional(Type.String({ maxLength: 200 })) });

/** PATCH /v2/attachments/:id */
export const UploadChunkHeaders = Type.Object({
  authorization: Type.Optional(Type.String({ maxLength: 200 })),
  [HEADER_UPLOAD_OFFSET]: Type.String({ pattern: '^[0-9]{1,16}$' }),
});

/** GET /v2/attachments/:id — an optional single byte range. */
export const DownloadHeaders = Type.Object({ range: Type.Optional(Type.String({ maxLength: 200 })) });

export type CreateAttachmentRequest = Static<typeof CreateAttachmentBody>;
export type AttachmentCreatedJson = Static<typeof AttachmentCreated>;
