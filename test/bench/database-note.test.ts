/**
 * The bench says where sealpost's database lived, and warns when that was memory: a run there
 * skips the disk flush every durable ack pays in production, so its figures must not pass for
 * a real one.
 */
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { databaseDirectoryNote } from '../../bench/targets/launch.js';

const TMPFS_MAGIC = 0x01021994;
const saved = process.env['TMPDIR'];

afterEach(() => {
  if (saved === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = saved;
});

describe('bench database directory note', () => {
  it('warns when the database directory is on tmpfs', () => {
    expect(statfsSync('/dev/shm').type).toBe(TMPFS_MAGIC);
    const dir = mkdtempSync('/dev/shm/sealpost-note-');
    try {
      process.env['TMPDIR'] = dir;
      expect(databaseDirectoryNote()).toBe(`sealpost's database was in ${dir}, on tmpfs: fdatasync reaches no disk there, so this run measures the relay without the flush cost it pays on a real disk`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a directory on a disk without the warning', () => {
    const onDisk = resolve(import.meta.dirname, '..', '..', 'node_modules', '.cache');
    mkdirSync(onDisk, { recursive: true });
    expect(statfsSync(onDisk).type).not.toBe(TMPFS_MAGIC);
    const dir = mkdtempSync(join(onDisk, 'sealpost-note-'));
    try {
      process.env['TMPDIR'] = dir;
      expect(databaseDirectoryNote()).toBe(`sealpost's database was in ${dir} (TMPDIR moves it)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
