/**
 * JSON shapes of the relay's HTTP API as TypeBox schemas: the routes validate with them and
 * the SDK imports their static types. All keys and signatures are unpadded base64url.
 * Signed requests carry `x-sealpost-timestamp`, `x-sealpost-nonce` and one signature header
 * per required signer (`x-sealpost-identity-signature`, `x-sealpost-device-signature`) over
 * crypto/statements.ts `signRequest` (see docs/PROTOCOL.md §"Signed requests").
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
export const HEADER_IDENTITY_SIGNATURE = 'x-sealpost-identity-signature';
export const HEADER_DEVICE_SIGNATURE = 'x-sealpost-device-signature';

export const Certificate = Type.Object(
  { createdAt: Timestamp, signature: Signature64 },
  { additionalProperties: false },
);

export const SignedPrekey = Type.Object(
  { keyId: KeyId, publicKey: Key32, signature: Signature64 },
  { additionalProperties: false },
);

export const OneTimePrekey = Type.Object({ keyId: KeyId, publicKey: Key32 }, { additionalProperties: false });

export const DeviceRegistration = Type.Object(
  {
    deviceId: Key32,
    certificate: Certificate,
    signedPrekey: SignedPrekey,
    oneTimePrekeys: Type.Array(OneTimePrekey, { maxItems: 100 }),
  },
  { additionalProperties: false },
);

/** POST /v1/accounts — signed by the identity key and the device key. */
export const CreateAccountBody = Type.Object(
  { handle: Handle, identityKey: Key32, device: DeviceRegistration },
  { additionalProperties: false },
);

/** POST /v1/accounts/:handle/devices — signed by the account identity key and the new device key. */
export const AddDeviceBody = Type.Object({ device: DeviceRegistration }, { additionalProperties: false });

export const DeviceCreated = Type.Object({ handle: Handle, deviceId: Key32 });

export const PublicDevice = Type.Object({ deviceId: Key32, certificate: Certificate, signedPrekey: SignedPrekey });

/** GET /v1/accounts/:handle */
export const AccountView = Type.Object({ handle: Handle, identityKey: Key32, devices: Type.Array(PublicDevice) });

/** POST /v1/devices/:deviceId/bundle — consumes the oldest one-time prekey, if any. */
export const PrekeyBundle = Type.Object({
  handle: Handle,
  identityKey: Key32,
  deviceId: Key32,
  certificate: Certificate,
  signedPrekey: SignedPrekey,
  oneTimePrekey: Type.Optional(OneTimePrekey),
});

/** PUT /v1/devices/:deviceId/prekeys — signed by that device's key. */
export const UploadPrekeysBody = Type.Object(
  { signedPrekey: Type.Optional(SignedPrekey), oneTimePrekeys: Type.Optional(Type.Array(OneTimePrekey, { maxItems: 100 })) },
  { additionalProperties: false },
);

export const PrekeyStatus = Type.Object({ oneTimePrekeys: Type.Integer({ minimum: 0 }) });

export const ErrorBody = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});

export type CertificateJson = Static<typeof Certificate>;
export type SignedPrekeyJson = Static<typeof SignedPrekey>;
export type OneTimePrekeyJson = Static<typeof OneTimePrekey>;
export type DeviceRegistrationJson = Static<typeof DeviceRegistration>;
export type CreateAccountRequest = Static<typeof CreateAccountBody>;
export type AddDeviceRequest = Static<typeof AddDeviceBody>;
export type AccountViewJson = Static<typeof AccountView>;
export type PublicDeviceJson = Static<typeof PublicDevice>;
export type PrekeyBundleJson = Static<typeof PrekeyBundle>;
export type UploadPrekeysRequest = Static<typeof UploadPrekeysBody>;
export type PrekeyStatusJson = Static<typeof PrekeyStatus>;

// --- Added by the relay (see docs/relay-api.md §"Provisioning mailbox"): device linking. ---

/** Largest provisioning blob: base64url of 64 KiB. */
export const PROVISIONING_BODY_MAX_CHARS = Math.ceil((64 * 1024 * 4) / 3);

/** PUT /v1/provisioning/:deviceId — unauthenticated, in memory, at most 5 per id, 10 minutes. */
export const ProvisioningPutBody = Type.Object(
  { body: Type.String({ pattern: B64, minLength: 1, maxLength: PROVISIONING_BODY_MAX_CHARS }) },
  { additionalProperties: false },
);

/** POST /v1/provisioning/:deviceId/claim — signed by that device key; returns and deletes the blobs. */
export const ProvisioningClaimed = Type.Object({ bodies: Type.Array(Type.String()) });

export const HandleParams = Type.Object({ handle: Handle }, { additionalProperties: false });
export const DeviceParams = Type.Object({ deviceId: Key32 }, { additionalProperties: false });
export const HandleDeviceParams = Type.Object({ handle: Handle, deviceId: Key32 }, { additionalProperties: false });

export type ProvisioningPutRequest = Static<typeof ProvisioningPutBody>;
export type ProvisioningClaimedJson = Static<typeof ProvisioningClaimed>;
