/** Small file-system steps the store's durability relies on. */
import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';

/** Makes a directory's entries (a created or removed file) durable. */
export function syncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory (EINVAL); the files' own data syncs still hold.
  } finally {
    closeSync(fd);
  }
}

/** The same, off the event loop. */
export const fsyncDirectory = (path: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const fd = openSync(path, 'r');
    fsync(fd, (error) => {
      closeSync(fd);
      // Some filesystems refuse fsync on a directory (EINVAL); the files' own data syncs still hold.
      if (error && error.code !== 'EINVAL') reject(error);
      else resolve();
    });
  });
