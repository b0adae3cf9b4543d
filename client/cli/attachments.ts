/**
 * Files on the command line: `send HANDLE --file PATH` (progress on stderr) and the saving half
 * of `listen --save-dir DIR`. A received file's name is the sender's word, so it is only a
 * suggestion: the file is written as a new file directly inside DIR, never to a path the name
 * spells (no separators, no "..", no hidden files), and never over an existing file (a suffix
 * " (1)", " (2)", … is added; created with O_EXCL, so a planted symlink is not followed).
 */
import { open, rm, mkdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileFromPath, type AttachmentPointer, type SealpostClient } from '../sdk/node.js';
import type { CliIo } from './output.js';

const MiB = 1024 * 1024;

/** Common types by extension; anything else goes as application/octet-stream (the receiver is told the name too). */
const TYPES: Record<string, string> = {
  '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.gif': 'image/gif', '.webp': 'image/webp',
  '.pdf': 'application/pdf', '.txt': 'text/plain', '.json': 'application/json', '.zip': 'application/zip',
  '.mp3': 'audio/mpeg', '.mp4': 'video/mp4',
};

/** Uploads PATH once and sends it to HANDLE; resolves with the message id once the relay stored it. */
export async function sendFile(client: SealpostClient, handle: string, path: string, caption: string, io: CliIo, connect: () => Promise<void>): Promise<string> {
  const file = await fileFromPath(path, { contentType: TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream' });
  // Refused here, before connecting or uploading anything, when the file is over the limit.
  const upload = client.prepareUpload(file);
  await connect();
  let shown = -1;
  const attachment = await upload.start({
    ...(io.signal ? { signal: io.signal } : {}),
    onProgress: ({ done, total }) => {
      const percent = Math.floor((done / total) * 100);
      if (percent === shown) return;
      shown = percent;
      io.err(`uploading ${file.fileName}: ${(done / MiB).toFixed(1)} / ${(total / MiB).toFixed(1)} MiB (${percent}%)`);
    },
  });
  const sent = await client.sendAttachment({ handle }, attachment, caption ? { caption } : {});
  await sent.stored;
  return sent.id;
}

/** Downloads and decrypts `attachment` into a new file in `dir`; resolves with its path. A refused download leaves no file. */
export async function saveAttachment(client: SealpostClient, attachment: AttachmentPointer, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const { handle, path } = await createNew(dir, safeFileName(attachment.fileName));
  try {
    for await (const chunk of client.downloadAttachment(attachment)) await handle.write(chunk);
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
  return path;
}

/** The last component of a sender's name with what a file system or a shell could misread replaced. */
export function safeFileName(name: string): string {
  const last = name.split(/[\\/]/).pop() ?? '';
  const cleaned = last
    .replace(/[\u0000-\u001f\u007f<>:"|?*]/g, '_')
    .trim()
    .replace(/^\.+/, '') // no "..", no hidden files
    .slice(0, 200);
  return cleaned || 'attachment';
}

async function createNew(dir: string, name: string): Promise<{ handle: Awaited<ReturnType<typeof open>>; path: string }> {
  const extension = extname(name);
  const stem = name.slice(0, name.length - extension.length);
  for (let n = 0; ; n++) {
    const path = join(dir, n === 0 ? name : `${stem} (${n})${extension}`);
    try {
      return { handle: await open(path, 'wx', 0o600), path };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 10_000) throw error;
    }
  }
}
