/**
 * Recovery of the queue log at open. Files left behind mean the relay stopped without its final
 * checkpoint (a crash, a kill, a power loss). Each file is read up to its first torn record; the
 * envelopes still queued at the end go into SQLite, every device's next_seq is raised above the
 * numbers the log handed out (acknowledged envelopes included: a number is never reused), the
 * result is made durable, and only then are the files deleted. It runs at every open of a file
 * database, with the queue log layer or without it (sqlite-store.ts), so switching the layer off
 * after a crash loses nothing either.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { syncDirectory } from './files.js';
import { queueLogFiles } from './log-files.js';
import { decodeRecords, type StoredRecord } from './log-records.js';
import type { SqliteTables } from './sqlite-tables.js';

/** Replays and deletes the queue log files next to `dbPath`; returns the generation the new log starts at. */
export function replayQueueLog(tables: SqliteTables, dbPath: string): number {
  const files = queueLogFiles(dbPath);
  const last = files.at(-1);
  if (last === undefined) return 1;
  const queued = new Map<string, Map<number, StoredRecord>>();
  const topSeq = new Map<string, number>();
  for (const file of files) {
    for (const record of decodeRecords(readFileSync(file.path), file.generation)) {
      let device = queued.get(record.deviceId);
      if (device === undefined) queued.set(record.deviceId, (device = new Map()));
      const seqs = record.kind === 'stored' ? [record.seq] : record.seqs;
      topSeq.set(record.deviceId, Math.max(topSeq.get(record.deviceId) ?? 0, ...seqs));
      if (record.kind === 'stored') device.set(record.seq, record);
      else for (const seq of record.seqs) device.delete(seq);
    }
  }
  // Devices removed since (left out of a device list, or deleted by migration 5 with every v1
  // device) are skipped: their envelopes went with them, and none may come back.
  tables.insertQueued(
    [...queued].map(([deviceId, records]) => [deviceId, records.values()] as const),
    [...topSeq].map(([deviceId, top]) => [deviceId, top + 1] as const),
  );
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
  for (const file of files) unlinkSync(file.path);
  syncDirectory(dirname(dbPath));
  return last.generation + 1;
}
