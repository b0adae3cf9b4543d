/**
 * Attachments in cluster mode: the blobs live in PostgreSQL, so an upload begun on one node goes on
 * through another and downloads through a third; two nodes never both accept the same offset; the
 * dump holds the bytes and the listed metadata, not the token or the device; any node's sweeper
 * deletes an expired blob's rows.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { registeredDevice, type TestDevice } from '../support/identity.js';
import { scanForNeedles } from '../support/privacy-scan.js';
import { begin, download, head, patch } from './attachments-helpers.js';

let cluster: TestCluster;
let device: TestDevice;
beforeAll(async () => {
  cluster = await startCluster(3, { attachmentTtlMs: 4000, sweepIntervalMs: 100 });
  device = await registeredDevice(cluster.nodes[0]!.url, 'sender');
}, 120_000);
afterAll(async () => {
  await cluster?.close();
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const url = (i: number) => cluster.nodes[i]!.url;

describe('attachments across nodes', () => {
  it('uploads through two nodes and downloads through a third, whole and by range', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 333);
    const upload = await begin(url(0), device, bytes.length);
    const cut = 2 * 1024 * 1024 + 5;
    expect((await patch(url(0), upload.id, upload.uploadToken, 0, bytes.subarray(0, cut))).status).toBe(204);
    const status = await head(url(1), upload.id, upload.uploadToken);
    expect(status.headers.get('upload-offset')).toBe(String(cut));
    expect((await download(url(2), upload.id)).status).toBe(404);
    expect((await patch(url(1), upload.id, upload.uploadToken, cut, bytes.subarray(cut))).status).toBe(204);

    const whole = await download(url(2), upload.id);
    expect(whole.status).toBe(200);
    expect(sha256(whole.bytes)).toBe(sha256(bytes));
    const part = await download(url(0), upload.id, { range: 'bytes=1048570-2097160' });
    expect(part.status).toBe(206);
    expect(part.bytes.equals(bytes.subarray(1048570, 2097161))).toBe(true);
  });

  it('lets only one of two nodes take the same offset', async () => {
    const bytes = randomBytes(4 * 1024 * 1024);
    const upload = await begin(url(0), device, bytes.length);
    const replies = await Promise.all([0, 1].map((i) => patch(url(i), upload.id, upload.uploadToken, 0, bytes)));
    const statuses = replies.map((r) => r.status).sort();
    // Whichever commits its first chunk first wins; the other finds `received` moved (or starts after: 409 too).
    expect(statuses).toEqual([204, 409]);
    expect(sha256((await download(url(2), upload.id)).bytes)).toBe(sha256(bytes));
  });

  it('keeps no token or device id in PostgreSQL, and any node sweeps an expired blob with its chunks', async () => {
    const upload = await begin(url(1), device, 10);
    expect((await patch(url(1), upload.id, upload.uploadToken, 0, new Uint8Array(10).fill(3))).status).toBe(204);
    // The directory tables name the device, as they must; the attachment tables must not. The
    // control needle (the blob's bytes, as hex in the dump) proves they are read.
    const control = { name: 'blob bytes', bytes: new Uint8Array(10).fill(3) };
    const report = await scanForNeedles({ postgresUrl: cluster.databaseUrl }, [upload.uploadToken, device.id, control]);
    const inAttachments = report.hits.filter((hit) => /table public\.attachment/.test(hit.where));
    expect(inAttachments.map((hit) => hit.needle)).toEqual(['blob bytes']);
    expect(report.hits.filter((hit) => hit.needle === upload.uploadToken)).toEqual([]);

    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    try {
      const count = async () => Number((await client.query('SELECT (SELECT count(*) FROM attachments) + (SELECT count(*) FROM attachment_chunks) AS n')).rows[0].n);
      expect(await count()).toBeGreaterThan(0);
      for (let i = 0; i < 120 && (await count()) > 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(await count()).toBe(0);
    } finally {
      await client.end();
    }
    expect((await download(url(0), upload.id)).status).toBe(404);
  });
});
