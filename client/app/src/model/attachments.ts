/**
 * Files in the web app (docs/sdk.md "Files"): the uploads this tab is sending, and the downloads
 * the views ask for. An upload's states live only here, in this order:
 *
 *   waiting → preparing (measuring a picture) → uploading → sending (the pointer goes out as a
 *   message; then the row goes and the message shows in the timeline)
 *   waiting, preparing or uploading → cancelled (Cancel); any step → failed (its error in words)
 *   cancelled or failed → waiting (Retry: the SDK's upload resumes where the relay stands, and an
 *   upload that finished is not sent again — only its message)
 *   refused: over the limit or not sendable at all; nothing was uploaded and trying again cannot help.
 *
 * Uploads run one at a time in the order the files came, so several files arrive as messages in
 * that order and one large file does not share the line with the next. Nothing here is kept
 * across a reload: the SDK's upload state is in memory too (docs/sdk.md, "Limits").
 */
import {
  MAX_ATTACHMENT_BYTES, SdkError, fileFromBlob,
  type AttachmentPointer, type AttachmentUpload, type Conversation, type SealpostClient, type TransferOptions, type TransferProgress,
} from '../../../sdk/index.js';
import { sameConversation } from './conversation-key.js';
import { describeError } from './describe-error.js';
import { describeImage } from './images.js';

export type UploadStatus = 'waiting' | 'preparing' | 'uploading' | 'sending' | 'cancelled' | 'failed' | 'refused';

/** What a view shows of one upload. */
export interface UploadRow {
  readonly localId: string;
  readonly fileName: string;
  readonly size: number;
  readonly status: UploadStatus;
  /** Bytes of the blob the relay holds, of its whole length. */
  readonly progress: TransferProgress | undefined;
  /** Why it stopped, in words. */
  readonly error: string | undefined;
}

interface UploadJob extends UploadRow {
  conversation: Conversation;
  file: Blob;
  status: UploadStatus;
  progress: TransferProgress | undefined;
  error: string | undefined;
  upload?: AttachmentUpload | undefined;
  abort?: AbortController | undefined;
}

/** Refusals that trying the same file again cannot get past. */
const FINAL_CODES = new Set(['too_large', 'invalid_content']);

const MiB = 1024 * 1024;

/** A size for people: "812 B", "4.2 KiB", "20 MiB" (binary units, as the limit is given). */
export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export class Attachments {
  private jobs: UploadJob[] = [];
  /** Runs the uploads one after the other. */
  private queue: Promise<void> = Promise.resolve();
  private nextId = 0;
  /** Files this tab sent, by blob id: shown and saved from here instead of downloaded again. */
  private readonly sentHere = new Map<string, Blob>();

  constructor(private readonly client: SealpostClient, private readonly changed: () => void) {}

  uploadsIn(conversation: Conversation): readonly UploadRow[] {
    return this.jobs.filter((job) => sameConversation(job.conversation, conversation));
  }

  /** Sends each file as its own message; one over the limit is refused here, before anything is uploaded. */
  attach(conversation: Conversation, files: Iterable<File>): void {
    for (const file of files) {
      const job: UploadJob = {
        localId: `upload-${++this.nextId}`, conversation, file, fileName: file.name || 'file', size: file.size,
        status: 'waiting', progress: undefined, error: undefined,
      };
      this.jobs.push(job);
      if (file.size > MAX_ATTACHMENT_BYTES) {
        // In MiB rounded up to a tenth: a file just over the limit must not read as the limit itself.
        const mib = Math.ceil((file.size / MiB) * 10) / 10;
        job.status = 'refused';
        job.error = `${job.fileName} is too large to send (${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB; the limit is ${MAX_ATTACHMENT_BYTES / MiB} MiB). Nothing was uploaded.`;
      } else {
        this.enqueue(job);
      }
    }
    this.changed();
  }

  cancel(localId: string): void {
    const job = this.find(localId);
    if (!job) return;
    if (job.status === 'waiting') {
      job.status = 'cancelled';
      job.error = describeError(new SdkError('cancelled', 'cancelled before it started'));
      this.changed();
    } else {
      job.abort?.abort();
    }
  }

  retry(localId: string): void {
    const job = this.find(localId);
    if (!job || (job.status !== 'cancelled' && job.status !== 'failed')) return;
    job.status = 'waiting';
    job.error = undefined;
    this.enqueue(job);
    this.changed();
  }

  /** Forgets an upload (stopping it first); what the relay holds of it expires there. */
  remove(localId: string): void {
    const job = this.find(localId);
    if (!job) return;
    job.abort?.abort();
    this.jobs = this.jobs.filter((j) => j !== job);
    this.changed();
  }

  /** A received (or sent) file's bytes, checked against its digest before this resolves. */
  async download(pointer: AttachmentPointer, options: TransferOptions): Promise<Blob> {
    const local = this.sentHere.get(pointer.id);
    if (local) return local;
    const parts: Uint8Array[] = [];
    for await (const bytes of this.client.downloadAttachment(pointer, options)) parts.push(bytes);
    return new Blob(parts as BlobPart[], { type: pointer.contentType });
  }

  private find(localId: string): UploadJob | undefined {
    return this.jobs.find((job) => job.localId === localId);
  }

  private enqueue(job: UploadJob): void {
    this.queue = this.queue.then(() => this.run(job));
  }

  private async run(job: UploadJob): Promise<void> {
    // Cancelled or removed while it waited its turn.
    if (job.status !== 'waiting' || !this.jobs.includes(job)) return;
    const abort = new AbortController();
    job.abort = abort;
    try {
      if (!job.upload) {
        this.move(job, 'preparing');
        const facts = await describeImage(job.file);
        if (abort.signal.aborted) throw new SdkError('cancelled', 'cancelled while preparing');
        job.upload = this.client.prepareUpload(fileFromBlob(job.file, { fileName: job.fileName, ...facts }));
      }
      job.progress ??= { done: 0, total: job.upload.total };
      this.move(job, 'uploading');
      const pointer = await job.upload.start({
        signal: abort.signal,
        onProgress: (progress) => {
          job.progress = progress;
          this.changed();
        },
      });
      // Before the message exists: its view looks here first, and must not download the file again.
      this.sentHere.set(pointer.id, job.file);
      this.move(job, 'sending');
      const target = job.conversation.kind === 'direct' ? { handle: job.conversation.handle } : { groupId: job.conversation.groupId };
      await this.client.sendAttachment(target, pointer);
      this.jobs = this.jobs.filter((j) => j !== job);
    } catch (error) {
      const code = error instanceof SdkError ? error.code : undefined;
      job.status = code === 'cancelled' ? 'cancelled' : code !== undefined && FINAL_CODES.has(code) ? 'refused' : 'failed';
      job.error = describeError(error);
    } finally {
      job.abort = undefined;
      this.changed();
    }
  }

  private move(job: UploadJob, status: UploadStatus): void {
    job.status = status;
    this.changed();
  }
}
