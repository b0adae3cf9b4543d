/**
 * An attachment's life on a real relay with the embedded store: a 20 MiB blob streamed up and
 * down, what lands on disk (the uploaded bytes and the listed columns, nothing else), and expiry
 * by the sweeper, which deletes the rows and the files.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobsDir } from '../../server/blobs/plugin.js';
import { registeredDevice, type TestDevice } from '../support/identity.js';
import { scanForNeedles } from '../support/privacy-scan.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { begin, download, head, patch, uploadAll } from './attachments-helpers.js';

let relay: RelayHandle;
let device: TestDevice;
beforeAll(async () => {
  relay = await startRelay();
  device = await registeredDevice(relay.url, 'sender');
});
afterAll(async () => {
  await relay?.close();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const pathOf = (r: RelayHandle, id: string) => join(blobsDir(r.dbPath), id.slice(0, 2), id);

describe('large blobs', () => {
  it('streams a 20 MiB blob up in 4 MiB PATCHes and down again, whole and from an offset', async () => {
    const bytes = randomBytes(20 * 1024 * 1024);
    const upload = await uploadAll(relay.url, device, bytes);
    const whole = await download(relay.url, upload.id);
    expect(whole.status).toBe(200);
    expect(whole.bytes.length).toBe(bytes.length);
    expect(sha256(whole.bytes)).toBe(sha256(bytes));
    const tail = await download(relay.url, upload.id, { range: `bytes=${12 * 1024 * 1024 + 3}-` });
    expect(tail.status).toBe(206);
    expect(sha256(tail.bytes)).toBe(sha256(bytes.subarray(12 * 1024 * 1024 + 3)));
  });
});

describe('what the relay keeps', () => {
  it('holds the uploaded bytes and the listed metadata only: no device id, address, name or type', async () => {
    const bytes = randomBytes(5000);
    const upload = await uploadAll(relay.url, device, bytes, 1200);
    expect(readFileSync(pathOf(relay, upload.id)).equals(bytes)).toBe(true);

    const db = new Database(join(blobsDir(relay.dbPath), 'blobs.db'), { readonly: true });
    try {
      const columns = (db.prepare('PRAGMA table_info(attachments)').all() as { name: string }[]).map((c) => c.name);
      expect(columns).toEqual(['id', 'owner', 'size', 'received', 'expires_at', 'upload_expires_at', 'token_hash']);
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
      expect(tables).toEqual(['attachments']);
      const row = db.prepare('SELECT * FROM attachments WHERE id = ?').get(upload.id) as Record<string, unknown>;
      expect(row).toMatchObject({ owner: device.handle, size: 5000, received: 5000, expires_at: upload.expiresAt });
      // The token itself is not kept, only its SHA-256.
      expect((row.token_hash as Buffer).equals(createHash('sha256').update(upload.uploadToken).digest())).toBe(true);
    } finally {
      db.close();
    }
    const report = await scanForNeedles({ dataDir: blobsDir(relay.dbPath), required: ['blobs.db', upload.id] }, [upload.uploadToken, device.id, '127.0.0.1', 'application/octet-stream']);
    expect(report.hits).toEqual([]);
  });
});

describe('expiry', () => {
  it('hides expired blobs at once and the sweeper deletes their rows and files; unfinished uploads go too', async () => {
    const short = await startRelay({ attachmentTtlMs: 1500, sweepIntervalMs: 100_000 });
    let complete: { id: string };
    let unfinished: { id: string; uploadToken: string };
    try {
      const uploader = await registeredDevice(short.url, 'brief');
      complete = await uploadAll(short.url, uploader, new Uint8Array(100).fill(9));
      unfinished = await begin(short.url, uploader, 100);
      expect((await patch(short.url, unfinished.id, unfinished.uploadToken, 0, new Uint8Array(10))).status).toBe(204);
      expect(existsSync(pathOf(short, complete.id))).toBe(true);
      expect(existsSync(pathOf(short, unfinished.id))).toBe(true);
      expect((await download(short.url, complete.id)).status).toBe(200);

      await new Promise((r) => setTimeout(r, 1600));
      // Expired but not yet swept: already gone for downloads and uploads.
      expect((await download(short.url, complete.id)).status).toBe(404);
      expect((await head(short.url, unfinished.id, unfinished.uploadToken)).status).toBe(404);
      expect((await patch(short.url, unfinished.id, unfinished.uploadToken, 10, new Uint8Array(1))).status).toBe(404);
      expect(existsSync(pathOf(short, complete.id))).toBe(true);
    } finally {
      await short.close({ keepData: true });
    }
    // The next relay's sweeper, on the same data.
    const again = await short.restart({ sweepIntervalMs: 50 });
    try {
      const db = join(blobsDir(again.dbPath), 'blobs.db');
      for (let i = 0; i < 100; i++) {
        const conn = new Database(db, { readonly: true });
        const n = (conn.prepare('SELECT count(*) AS n FROM attachments').get() as { n: number }).n;
        conn.close();
        if (n === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const conn = new Database(db, { readonly: true });
      expect(conn.prepare('SELECT count(*) AS n FROM attachments').get()).toEqual({ n: 0 });
      conn.close();
      expect(existsSync(pathOf(again, complete.id))).toBe(false);
      expect(existsSync(pathOf(again, unfinished.id))).toBe(false);
      expect(again.logs.join('\n')).toMatch(/"blobs":2,.*expired attachments deleted/);
      const metrics = await (await fetch(`${again.url}/metrics`)).text();
      expect(metrics).toMatch(/^sealpost_attachments_stored 0$/m);
      expect(metrics).toMatch(/^sealpost_attachment_bytes_stored 0$/m);
    } finally {
      await again.close();
    }
  });
});
