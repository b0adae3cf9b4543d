/**
 * Node-only: a file on disk as a file to send, read as a stream each time an upload opens it
 * (a 100 MiB file is never read into memory whole).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { AttachmentFile } from './attachments.js';
import { SdkError } from './errors.js';

export async function fileFromPath(path: string, meta: Partial<Omit<AttachmentFile, 'size' | 'open'>> = {}): Promise<AttachmentFile> {
  const info = await stat(path);
  if (!info.isFile()) throw new SdkError('invalid_content', `${path} is not a file`);
  return {
    ...meta,
    size: info.size,
    fileName: meta.fileName ?? basename(path),
    contentType: meta.contentType ?? 'application/octet-stream',
    open: () => createReadStream(path, { highWaterMark: 1024 * 1024 }),
  };
}
