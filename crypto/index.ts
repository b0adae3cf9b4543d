/**
 * The public surface of Sealpost's protocol core. Everything here is runtime-neutral (no Node,
 * no DOM) and needs `await ready()` first. docs/PROTOCOL.md describes every construction.
 */
export * from './sodium.js';
export * from './errors.js';
export * from './encoding.js';
export * from './keys.js';
export * from './statements.js';
export type { LocalIdentity, RemoteBundle, PrekeySource, SessionOptions } from './session.js';
export {
  Session,
  initiateSession,
  acceptSession,
  encrypt,
  decrypt,
  isPrekeyMessage,
  serializeSession,
  deserializeSession,
  sessionRemoteIdentityKey,
  sessionRemoteDeviceKey,
  prekeyBaseKey,
} from './session.js';
export type { SealedContent } from './seal.js';
export { sealEnvelope, openEnvelope } from './seal.js';
export { padContent, unpadContent, PADDING_BLOCK } from './padding.js';
export type { SafetyParty } from './safety-number.js';
export { safetyNumber, safetyFingerprint } from './safety-number.js';
export {
  createLinkSecret, sealLinkBundle, openLinkBundle, encodeLinkCode, decodeLinkCode, typedLinkCode, typedLinkCodeCharacters,
  TYPED_LINK_CODE_CHARACTERS, LINK_SECRET_BYTES,
} from './link.js';
export type { DeviceListBody, DeviceListDevice, DeviceListHead, SignedDeviceList } from './device-list.js';
export { signDeviceList, verifyDeviceList, deviceListHead, deviceListStatement, sameHead, MAX_LIST_DEVICES } from './device-list.js';
export { encodeRecoveryKey, decodeRecoveryKey } from './recovery-key.js';
export type { AttachmentSecrets, AttachmentKeys, AttachmentCiphertext } from './attachment.js';
export {
  createAttachmentSecrets, encryptAttachment, decryptAttachment, paddedAttachmentSize, attachmentCiphertextSize,
  ATTACHMENT_KEY_BYTES, ATTACHMENT_DIGEST_BYTES, ATTACHMENT_CHUNK_BYTES,
} from './attachment.js';
