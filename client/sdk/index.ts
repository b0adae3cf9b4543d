/**
 * The Sealpost client SDK — the same code in browsers and Node. Node-only pieces (the
 * file-backed store) are in `./node.js`.
 */
export { SealpostClient, type ClientOptions, type OutgoingMessage, type OwnDevice } from './client.js';
export type { SealpostEvents, MessageEvent, ReceiptEvent, TypingEvent, MessageStateEvent, GroupEvent, DeviceListMismatch, SendProblem } from './events.js';
export type { MissingMessages } from './history.js';
export type { ConnectionState } from './connection.js';
export type { IdentityChange, DeviceRefusal, DeviceListRefusal, DevicesChanged } from './directory.js';
export type { PendingLink } from './registration.js';
export { SdkError, type SdkErrorCode } from './errors.js';
export { LocalStore } from './store/local-store.js';
export { MemoryPersistence, type Persistence } from './store/persistence.js';
export { IndexedDbPersistence } from './store/indexeddb-persistence.js';
export type * from './store/records.js';
export { DEFAULT_PREKEY_POLICY, type PrekeyPolicy } from './prekeys.js';
export { CONTENT_VERSION, MAX_ATTACHMENT_BYTES, MAX_TEXT_LENGTH, type Content, type AttachmentPointer } from './content.js';
export { AttachmentUpload, fileFromBlob, type AttachmentFile, type TransferOptions, type TransferProgress } from './attachments.js';
export { enablePush, disablePush, fetchPushKey, type PushSubscriptionInput, type PushOptions } from './push.js';
