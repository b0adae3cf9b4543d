/**
 * Files (docs/PROTOCOL.md §22, docs/sdk.md "Files"): an upload encrypts a file once
 * (crypto/attachment.ts) and streams the blob to the relay in 4 MiB PATCHes; the pointer it
 * gives back is then sent like a text to every device of the conversation (outgoing.ts), so a
 * group or our own devices never cause a second upload. A download streams the blob back through
 * decryption, which checks the digest before the last bytes are released.
 *
 * Failures a retry can cure (the network, a relay busy or failing) are retried a bounded number
 * of times: an upload asks the relay where it stands (HEAD) and goes on from there; a download
 * asks for the rest with a Range. An upload that failed for good or was cancelled can be started
 * again: it encrypts the file again under the same key and stream header, which gives the same
 * blob, and sends only what the relay does not hold yet. Nothing here holds more than one PATCH
 * of the blob in memory.
 */
import { Value } from '@sinclair/typebox/value';
import {
  CryptoError, attachmentCiphertextSize, createAttachmentSecrets, decryptAttachment, encryptAttachment, fromBase64Url, toBase64Url,
  type AttachmentKeys, type AttachmentSecrets,
} from '../../crypto/index.js';
import { BlobHttp, cancelled, retryable, type UploadSlot } from './attachment-http.js';
import { AttachmentPointer, MAX_ATTACHMENT_BYTES, MAX_THUMBNAIL_BYTES } from './content.js';
import { SdkError } from './errors.js';

/** Bytes of the blob per PATCH. */
export const UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024;
/** Tries per PATCH (or per download stretch); between them 0.5, 1, 2, 4 s. */
const MAX_ATTEMPTS = 5;
const RETRY_DELAY_MS = 500;
const MiB = 1024 * 1024;

/** A file to send. `open()` is called again when an upload resumes, and must give the same bytes. */
export interface AttachmentFile {
  size: number;
  fileName: string;
  /** A MIME type such as `image/png` (anything else is sent as `application/octet-stream`). */
  contentType: string;
  open(): AsyncIterable<Uint8Array>;
  width?: number;
  height?: number;
  /** A small JPEG (≤ 8 KiB) that the app made; sent inside the message. */
  thumbnail?: Uint8Array;
}

export interface TransferProgress {
  /** Bytes of the blob the relay confirmed (uploads) or that arrived (downloads). */
  done: number;
  /** The blob's length (the encrypted, padded file). */
  total: number;
}

export interface TransferOptions {
  /** Aborting rejects with `cancelled`; an upload can be started again and resumes. */
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
}

/** Begins an upload on the relay (the signed POST). */
export type BeginUpload = (size: number) => Promise<UploadSlot>;

export class AttachmentUpload {
  /** The blob's length, as the relay is told. */
  readonly total: number;
  private readonly secrets: AttachmentSecrets = createAttachmentSecrets();
  private readonly file: AttachmentFile;
  private slot: UploadSlot | undefined;
  private pointer: AttachmentPointer | undefined;
  private running: Promise<AttachmentPointer> | undefined;

  constructor(file: AttachmentFile, private readonly begin: BeginUpload, private readonly blobs: BlobHttp) {
    this.file = checkedFile(file);
    this.total = attachmentCiphertextSize(file.size);
  }

  /**
   * Uploads (or resumes) and resolves with the pointer to send. A second call while one runs
   * gets the same promise; a call after success gets the same pointer without uploading again.
   */
  start(options: TransferOptions = {}): Promise<AttachmentPointer> {
    if (this.pointer) return Promise.resolve(this.pointer);
    this.running ??= this.run(options).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run({ signal, onProgress }: TransferOptions): Promise<AttachmentPointer> {
    throwIfAborted(signal);
    const resuming = this.slot !== undefined;
    const slot = (this.slot ??= await this.begin(this.total));
    const held = resuming ? await retried(() => this.blobs.received(slot, signal), signal) : 0;
    onProgress?.({ done: held, total: this.total });
    const ciphertext = encryptAttachment(this.file.open(), this.file.size, this.secrets);
    try {
      for await (const part of parts(ciphertext, held)) {
        throwIfAborted(signal);
        const done = await this.send(slot, part.offset, part.bytes, signal);
        onProgress?.({ done, total: this.total });
      }
    } catch (error) {
      if (error instanceof CryptoError && error.code === 'invalid_encoding') {
        throw new SdkError('file_changed', `${this.file.fileName} changed while it was being sent: send it again`, { cause: error });
      }
      throw error;
    }
    const { width, height, thumbnail } = this.file;
    this.pointer = {
      id: slot.id, key: toBase64Url(this.secrets.key), digest: toBase64Url(ciphertext.digest()), size: this.file.size,
      contentType: this.file.contentType, fileName: this.file.fileName,
      ...(width === undefined ? {} : { width }), ...(height === undefined ? {} : { height }),
      ...(thumbnail === undefined ? {} : { thumbnail: toBase64Url(thumbnail) }),
    };
    return this.pointer;
  }

  /** One PATCH's worth, retried from wherever the relay says it stands; resolves to the new offset. */
  private async send(slot: UploadSlot, offset: number, bytes: Uint8Array, signal: AbortSignal | undefined): Promise<number> {
    let at = offset;
    let rest = bytes;
    for (let attempt = 1; ; attempt++) {
      let now: number;
      try {
        now = await this.blobs.append(slot, at, rest, signal);
        if (now === at + rest.length) return now;
      } catch (error) {
        if (!retryable(error) || attempt >= MAX_ATTEMPTS) throw error;
        await pause(RETRY_DELAY_MS * 2 ** (attempt - 1), signal);
        // Where to go on; if even that fails, the next PATCH's 409 will say.
        now = await this.blobs.received(slot, signal).catch((headError: unknown) => {
          if (!retryable(headError)) throw headError;
          return at;
        });
      }
      if (attempt >= MAX_ATTEMPTS) throw new SdkError('network', `the upload made no progress in ${MAX_ATTEMPTS} attempts`);
      if (now < at || now > at + rest.length) {
        throw new SdkError('relay_error', `the relay holds ${now} bytes of the upload, outside the part being sent`, { relayCode: 'conflict' });
      }
      rest = rest.subarray(now - at);
      at = now;
      if (rest.length === 0) return at;
    }
  }
}

/**
 * The file of `pointer`, decrypted as it arrives. Refusals: `not_found` (expired or never
 * uploaded), `truncated`, `digest_mismatch`, `decrypt_failed` (a wrong key or altered bytes),
 * `cancelled`, `network` after the retries.
 */
export async function* downloadAttachment(blobs: BlobHttp, pointer: AttachmentPointer, options: TransferOptions = {}): AsyncGenerator<Uint8Array> {
  const keys = keysOf(pointer);
  try {
    yield* decryptAttachment(blobBytes(blobs, pointer.id, attachmentCiphertextSize(pointer.size), options), keys);
  } catch (error) {
    if (!(error instanceof CryptoError)) throw error;
    const code = error.code === 'truncated' || error.code === 'digest_mismatch' ? error.code : 'decrypt_failed';
    throw new SdkError(code, `the attachment ${pointer.fileName} cannot be used: ${error.message}`, { cause: error });
  }
}

/** A pointer the app passes back in: the same checks as on receipt. */
export function checkPointer(pointer: unknown): AttachmentPointer {
  if (!Value.Check(AttachmentPointer, pointer)) throw new SdkError('invalid_content', 'not a valid attachment pointer');
  keysOf(pointer);
  return pointer;
}

/** A Blob or File (browsers, and Node ≥ 20) as a file to send. */
export function fileFromBlob(blob: Blob, meta: Partial<Omit<AttachmentFile, 'size' | 'open'>> = {}): AttachmentFile {
  const name = (blob as Partial<File>).name;
  return {
    ...meta,
    size: blob.size,
    fileName: meta.fileName ?? name ?? 'file',
    contentType: meta.contentType ?? (blob.type || 'application/octet-stream'),
    open: () => chunksOf(blob.stream()),
  };
}

/** A ReadableStream as an async iterable (Safari's streams are not iterable themselves). */
export async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function keysOf(pointer: AttachmentPointer): AttachmentKeys {
  try {
    return { key: fromBase64Url(pointer.key, 32), digest: fromBase64Url(pointer.digest, 32), size: pointer.size };
  } catch (cause) {
    throw new SdkError('invalid_content', 'the attachment pointer\'s key or digest is malformed', { cause });
  }
}

/** Refused before anything is uploaded: over the limit, a thumbnail too big, a bad image size. Names and types are made valid. */
function checkedFile(file: AttachmentFile): AttachmentFile {
  if (!Number.isSafeInteger(file.size) || file.size < 0) throw new SdkError('invalid_content', 'a file size is a whole number of bytes');
  if (file.size > MAX_ATTACHMENT_BYTES) {
    throw new SdkError('too_large', `${file.fileName} is ${(file.size / MiB).toFixed(1)} MiB; files of up to ${MAX_ATTACHMENT_BYTES / MiB} MiB can be sent`);
  }
  if (file.thumbnail && file.thumbnail.length > MAX_THUMBNAIL_BYTES) throw new SdkError('too_large', `a thumbnail is at most ${MAX_THUMBNAIL_BYTES / 1024} KiB`);
  for (const side of [file.width, file.height]) {
    if (side !== undefined && (!Number.isInteger(side) || side < 1 || side > 65_535)) throw new SdkError('invalid_content', 'an image side is 1 to 65535 pixels');
  }
  const fileName = file.fileName.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 255) || 'file';
  const contentType = /^[A-Za-z0-9!#$&^_.+-]{1,63}\/[A-Za-z0-9!#$&^_.+-]{1,63}$/.test(file.contentType) ? file.contentType : 'application/octet-stream';
  return { ...file, fileName, contentType };
}

/** The ciphertext from byte `from` on, in PATCH-sized parts with their offsets (earlier bytes are dropped). */
async function* parts(ciphertext: AsyncIterable<Uint8Array>, from: number): AsyncGenerator<{ offset: number; bytes: Uint8Array }> {
  let position = 0;
  let buffer = new Uint8Array(UPLOAD_CHUNK_BYTES);
  let filled = 0;
  let start = from;
  for await (let piece of ciphertext) {
    const skip = Math.min(piece.length, Math.max(0, from - position));
    position += piece.length;
    piece = piece.subarray(skip);
    while (piece.length > 0) {
      const n = Math.min(piece.length, buffer.length - filled);
      buffer.set(piece.subarray(0, n), filled);
      filled += n;
      piece = piece.subarray(n);
      if (filled === buffer.length) {
        yield { offset: start, bytes: buffer };
        start += filled;
        buffer = new Uint8Array(UPLOAD_CHUNK_BYTES);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield { offset: start, bytes: buffer.subarray(0, filled) };
}

/**
 * The blob's bytes, resumed with a Range after a cut connection. Stops one byte past the
 * expected length (decryption refuses extra bytes; a relay cannot make us read forever); a blob
 * the relay ends early is passed on as it is, for decryption to refuse as `truncated`.
 */
async function* blobBytes(blobs: BlobHttp, id: string, total: number, { signal, onProgress }: TransferOptions): AsyncGenerator<Uint8Array> {
  let received = 0;
  for (let attempt = 1; ; attempt++) {
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      reader = (await blobs.download(id, received, signal)).getReader();
      for (;;) {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch (cause) {
          throw signal?.aborted ? cancelled(cause) : new SdkError('network', 'the download was cut off', { cause });
        }
        if (next.done) return;
        throwIfAborted(signal);
        const piece = next.value.subarray(0, total + 1 - received);
        received += piece.length;
        onProgress?.({ done: Math.min(received, total), total });
        yield piece;
        if (received > total) return;
      }
    } catch (error) {
      if (!retryable(error) || attempt >= MAX_ATTEMPTS) throw error;
      await pause(RETRY_DELAY_MS * 2 ** (attempt - 1), signal);
    } finally {
      await reader?.cancel().catch(() => undefined);
    }
  }
}

/** A request retried while its failure is retryable (HEAD on resume). */
async function retried<T>(request: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request();
    } catch (error) {
      if (!retryable(error) || attempt >= MAX_ATTEMPTS) throw error;
      await pause(RETRY_DELAY_MS * 2 ** (attempt - 1), signal);
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelled(signal.reason);
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled(signal.reason));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelled(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
