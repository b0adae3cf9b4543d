/**
 * Recovery of the queue log at open. Files left behind mean the relay stopped without its final
 * checkpoint (a crash, a kill, a power loss). Each file is read up to its first torn record; the
 * envelopes still queued at the end go into SQLite, every device's next_seq is raised above the
 * numbers the log handed out (acknowledged envelopes included: a number is never reused), the
 * result is made durable, and only then are the files deleted.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { syncDirectory } from './files.js';
import { decodeRecords, type StoredRecord } from './log-records.js';
import { queueLogFiles } from './queue-log.js';
import { SQL } from './sql.js';

export interface Replayed {
  /** The generation the new log starts at. */
  nextGeneration: number;
  envelopes: number;
}

export function replayQueueLog(db: Database.Database, dbPath: string): Replayed {
  const files = queueLogFiles(dbPath);
  const last = files.at(-1);
  if (last === undefined) return { nextGeneration: 1, envelopes: 0 };
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
  const insert = db.prepare(SQL.insertEnvelope);
  const known = db.prepare(SQL.reservedSeq);
  const raise = db.prepare(SQL.raiseNextSeq);
  let envelopes = 0;
  db.transaction(() => {
    for (const [deviceId, top] of topSeq) {
      // A device removed since (left out of a device list, or deleted by migration 5 with every
      // v1 device): its envelopes went with it, and none may come back.
      if (!known.get(deviceId)) continue;
      for (const r of queued.get(deviceId)?.values() ?? []) {
        envelopes += insert.run(deviceId, r.seq, r.id, r.body, r.body.byteLength, r.expiresAt).changes;
      }
      raise.run(top + 1, deviceId);
    }
  })();
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
  return { nextGeneration: last.generation + 1, envelopes };
}
