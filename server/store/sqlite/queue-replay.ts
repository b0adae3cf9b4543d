/**
 * Recovery of the queue log at open. Files left behind mean the relay stopped without its final
 * checkpoint (a crash, a kill, a power loss). Each file is read up to its first torn record; the
 * envelopes still queued at the end go into SQLite, every device's next_seq is raised above the
 * numbers the log handed out (acknowledged envelopes included: a number is never reused), the
 * result is made durable, and only then are the files deleted. It runs at every open of a file
 * database, with the queue log layer or without it (sqlite-store.ts), so switching the layer off
 * after a crash loses nothing either.
 *
 * On a full disk the move into SQLite fails and changes nothing (one transaction): the queue log
 * layer then adopts what was read, in memory, and keeps the files until its first checkpoint
 * (logged-store.ts), so a relay restarted on a full disk still starts and delivers.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { syncDirectory } from './files.js';
import { queueLogFiles, type LogFileName } from './log-files.js';
import { decodeRecords, type StoredRecord } from './log-records.js';
import type { SqliteTables } from './sqlite-tables.js';

/** What the log files left behind hold once read. */
export interface LeftoverLog {
  files: readonly LogFileName[];
  /** Envelopes still queued at the end of the files, per device, in sequence order. */
  queued: ReadonlyMap<string, readonly StoredRecord[]>;
  /** Per device, the number after the highest the files handed out. */
  nextSeqs: ReadonlyMap<string, number>;
  /** The generation the new log starts at: above every file left. */
  generation: number;
}

/** Reads the queue log files next to `dbPath` (none: nothing queued, generation 1). */
export function readQueueLog(dbPath: string): LeftoverLog {
  const files = queueLogFiles(dbPath);
  const queued = new Map<string, Map<number, StoredRecord>>();
  const nextSeqs = new Map<string, number>();
  for (const file of files) {
    for (const record of decodeRecords(readFileSync(file.path), file.generation)) {
      let device = queued.get(record.deviceId);
      if (device === undefined) queued.set(record.deviceId, (device = new Map()));
      const seqs = record.kind === 'stored' ? [record.seq] : record.seqs;
      nextSeqs.set(record.deviceId, Math.max(nextSeqs.get(record.deviceId) ?? 1, ...seqs.map((s) => s + 1)));
      if (record.kind === 'stored') device.set(record.seq, record);
      else for (const seq of record.seqs) device.delete(seq);
    }
  }
  const inOrder = new Map([...queued].map(([deviceId, records]) => [deviceId, [...records.values()].sort((a, b) => a.seq - b.seq)] as const));
  return { files, queued: inOrder, nextSeqs, generation: (files.at(-1)?.generation ?? 0) + 1 };
}

/**
 * Moves what the files left into the tables, makes it durable, then deletes the files. Throws
 * (having changed nothing) when SQLite cannot write, e.g. on a full disk.
 */
export function replayQueueLog(tables: SqliteTables, dbPath: string, leftover: LeftoverLog): void {
  if (leftover.files.length === 0) return;
  // Devices removed since (left out of a device list, or deleted by migration 5 with every v1
  // device) are skipped: their envelopes went with them, and none may come back.
  tables.insertQueued(leftover.queued, leftover.nextSeqs);
  // On disk before the log files go: fsync the WAL (this runs once, at open, before serving).
  const wal = `${dbPath}-wal`;
  if (existsSync(wal)) {
    const fd = openSync(wal, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
  deleteLogFiles(dbPath, leftover.files);
}

/** Deletes log files whose content SQLite holds durably now. */
export function deleteLogFiles(dbPath: string, files: readonly LogFileName[]): void {
  for (const file of files) unlinkSync(file.path);
  syncDirectory(dirname(dbPath));
}
