/**
 * Scenario (h): a large attachment through the relay (the target process), beside plain curl.
 *
 * SDK: alice and bob (two SealpostClients on MemoryPersistence, both in this load process)
 * register and connect; alice encrypts and uploads a file of random bytes on disk
 * (`fileFromPath`, `prepareUpload(…).start()`: encryption + the 4 MiB PATCHes), timed; then she
 * sends the pointer, bob receives it and downloads it (`downloadAttachment`: GETs + digest check
 * + decryption, the bytes counted and dropped), timed.
 *
 * curl: a bench identity (sealpost-identity.ts) begins an upload of the same ciphertext size
 * (signed POST /v2/attachments); a temp file of that many random bytes is sent with one
 * `curl -X PATCH --data-binary @chunk` per 4 MiB chunk (each chunk written to its own file
 * beforehand, outside the timing), then fetched with `curl -o /dev/null`. Wall time of the curl
 * processes, spawned one after another (spawnSync), process start-up included.
 *
 * MiB/s are of the file (SDK) or of the same number of ciphertext bytes (curl); the runner
 * samples the relay's RSS between the phases 'transfer-start' and 'transfer-end'.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileFromPath, type SealpostClient } from '../../client/sdk/node.js';
import { toBase64Url, utf8 } from '../../crypto/encoding.js';
import { signRequest } from '../../crypto/statements.js';
import { HEADER_DEVICE_ID, HEADER_DEVICE_SIGNATURE, HEADER_NONCE, HEADER_TIMESTAMP } from '../../protocol/http.js';
import type { BenchConfig } from '../config.js';
import type { LoadResult } from '../ipc.js';
import { BenchError } from './driver.js';
import { cpuPercent, phase } from './phase.js';
import { connected, openClient, waitUntil, type SdkBenchClient } from './sdk-clients.js';
import { registerDevice, type SealpostDevice } from './sealpost-identity.js';

const CHUNK = 4 * 1024 * 1024;
const MiB = 1024 * 1024;

type Pointer = Parameters<SealpostClient['downloadAttachment']>[0];

/** Writes `bytes` random bytes to `path`, 1 MiB at a time. */
function randomFile(path: string, bytes: number): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    for (let at = 0; at < bytes; at += MiB) writeSync(fd, randomBytes(Math.min(MiB, bytes - at)));
  } finally {
    closeSync(fd);
  }
}

async function beginUpload(url: string, device: SealpostDevice, size: number): Promise<{ id: string; uploadToken: string }> {
  const path = '/v2/attachments';
  const body = JSON.stringify({ size });
  const timestamp = Date.now();
  const nonce = toBase64Url(randomBytes(16));
  const signature = signRequest({ relayHost: new URL(url).host, method: 'POST', path, timestamp, nonce, body: utf8(body) }, device.deviceKey.privateKey);
  const response = await fetch(new URL(path, url), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [HEADER_DEVICE_ID]: device.id,
      [HEADER_TIMESTAMP]: String(timestamp),
      [HEADER_NONCE]: nonce,
      [HEADER_DEVICE_SIGNATURE]: toBase64Url(signature),
    },
    body,
  });
  const text = await response.text();
  if (response.status !== 201) throw new BenchError(`POST /v2/attachments refused: ${response.status} ${text}`);
  return JSON.parse(text) as { id: string; uploadToken: string };
}

function curl(args: string[]): void {
  const out = spawnSync('curl', ['-sS', '--fail-with-body', ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (out.error) throw new BenchError(`curl: ${out.error.message}`);
  if (out.status !== 0) throw new BenchError(`curl exited with ${out.status}: ${out.stderr.slice(0, 300)} ${out.stdout.slice(0, 300)}`);
}

export async function runAttachments(url: string, params: BenchConfig['attachment']): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-h-'));
  const clients: SdkBenchClient[] = [];
  try {
    const filePath = join(dir, 'file.bin');
    randomFile(filePath, params.bytes);
    const tag = randomBytes(4).toString('hex');
    const alice = await openClient('memory', 'h-alice');
    clients.push(alice);
    const bob = await openClient('memory', 'h-bob');
    clients.push(bob);
    await alice.client.register(url, `ha${tag}`);
    await bob.client.register(url, `hb${tag}`);
    await connected(alice.client, 'alice');
    await connected(bob.client, 'bob');
    let received: Pointer | undefined;
    bob.client.on('message', (m) => {
      if (m.attachment) received = m.attachment;
    });
    const curlDevice = await registerDevice(url);

    await phase('transfer-start');
    const cpuAt = process.cpuUsage();
    const wallAt = performance.now();

    // SDK upload: encrypt + PATCHes.
    const file = await fileFromPath(filePath, { contentType: 'application/octet-stream' });
    let t0 = performance.now();
    const upload = alice.client.prepareUpload(file);
    const pointer = await upload.start();
    const uploadSeconds = (performance.now() - t0) / 1000;
    const ciphertextBytes = upload.total;
    await alice.client.sendAttachment({ handle: `hb${tag}` }, pointer);
    await waitUntil(() => received !== undefined, 'bob receives the pointer', 30_000);

    // SDK download: GET + digest + decrypt.
    t0 = performance.now();
    let plain = 0;
    for await (const bytes of bob.client.downloadAttachment(received as Pointer)) plain += bytes.length;
    const downloadSeconds = (performance.now() - t0) / 1000;
    if (plain !== params.bytes) throw new BenchError(`downloaded ${plain} bytes, expected ${params.bytes}`);

    // curl: the same ciphertext size, 4 MiB PATCHes, then one GET.
    const blobPath = join(dir, 'blob.bin');
    randomFile(blobPath, ciphertextBytes);
    const chunks: string[] = [];
    {
      const whole = readFileSync(blobPath);
      for (let at = 0, i = 0; at < ciphertextBytes; at += CHUNK, i++) {
        const p = join(dir, `chunk-${i}`);
        const fd = openSync(p, 'w', 0o600);
        writeSync(fd, whole.subarray(at, Math.min(at + CHUNK, ciphertextBytes)));
        closeSync(fd);
        chunks.push(p);
      }
    }
    const slot = await beginUpload(url, curlDevice, ciphertextBytes);
    const blobUrl = new URL(`/v2/attachments/${slot.id}`, url).toString();
    t0 = performance.now();
    chunks.forEach((chunk, i) => {
      curl([
        '-X', 'PATCH', '-o', '/dev/null',
        '-H', `Authorization: Bearer ${slot.uploadToken}`,
        '-H', `Upload-Offset: ${i * CHUNK}`,
        '-H', 'Content-Type: application/offset+octet-stream',
        '--data-binary', `@${chunk}`,
        blobUrl,
      ]);
    });
    const curlUploadSeconds = (performance.now() - t0) / 1000;
    t0 = performance.now();
    curl(['-o', '/dev/null', blobUrl]);
    const curlDownloadSeconds = (performance.now() - t0) / 1000;

    const seconds = (performance.now() - wallAt) / 1000;
    const loadCpuPct = cpuPercent(cpuAt, seconds);
    await phase('transfer-end');
    return {
      completed: 1,
      seconds,
      errors: 0,
      loadCpuPct,
      fileMiB: params.bytes / MiB,
      ciphertextMiB: ciphertextBytes / MiB,
      sdkUploadMiBps: params.bytes / MiB / uploadSeconds,
      sdkDownloadMiBps: params.bytes / MiB / downloadSeconds,
      curlUploadMiBps: ciphertextBytes / MiB / curlUploadSeconds,
      curlDownloadMiBps: ciphertextBytes / MiB / curlDownloadSeconds,
    };
  } finally {
    for (const c of clients) await c.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
