/**
 * Files between real SDK clients (file-backed profiles) through a real relay: an image with its
 * size and thumbnail and a 20 MiB file arrive whole, at the recipient and at the sender's other
 * device; one upload serves a whole group; an upload cut off mid-chunk resumes by itself, and one
 * cancelled resumes when started again; a wrong digest, a truncated blob, a missing blob and a
 * file over the limit each get their typed error; nothing the relay wrote holds the files'
 * bytes, names or captions.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileFromBlob, fileFromPath, SdkError, type AttachmentPointer, type MessageEvent, type TransferProgress } from '../../client/sdk/node.js';
import { BlobHttp } from '../../client/sdk/attachment-http.js';
import { deviceSigner } from '../../client/sdk/local-identity.js';
import { RelayHttp } from '../../client/sdk/relay-http.js';
import { createAttachmentSecrets, encryptAttachment, toBase64Url } from '../../crypto/index.js';
import { expectNoNeedles, relaySources, scanForNeedles } from '../support/privacy-scan.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { linkDevice, registerDevice, tempDir, waitFor, type TestDevice } from './helpers.js';

const MiB = 1024 * 1024;
/** Written into every file sent here: the privacy scan looks for it in what the relay stored. */
const MARKER = 'sealpost-attachment-plaintext-marker';
const CAPTION = 'the caption of a sealed file';

/** A file of random bytes with MARKER at its start and every MiB. */
function randomFile(dir: string, name: string, size: number): { path: string; sha256: string } {
  const bytes = randomFillSync(Buffer.alloc(size));
  for (let at = 0; at + MARKER.length <= size; at += MiB) bytes.write(MARKER, at);
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex') };
}

async function sha256Of(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

async function failure(chunks: AsyncIterable<Uint8Array>): Promise<string | undefined> {
  try {
    for await (const _ of chunks);
  } catch (error) {
    return error instanceof SdkError ? error.code : String(error);
  }
  return undefined;
}

describe('attachments between SDK clients', () => {
  let relay: RelayHandle;
  const root = tempDir('sealpost-sdk-files-');
  const files = tempDir('sealpost-sdk-files-src-');
  const devices: Record<string, TestDevice> = {};
  /** What the flaky network below did to erin's requests. */
  const network = { cutNextPatch: false, cutNextDownload: false, heads: 0, posts: 0, ranges: [] as string[] };

  /** erin's network: forwards everything, but can deliver half of one PATCH and then fail as a cut connection does. */
  const flaky: typeof fetch = async (input, init) => {
    if (init?.method === 'HEAD') network.heads++;
    if (init?.method === 'POST' && String(input).endsWith('/v2/attachments')) network.posts++;
    const range = new Headers(init?.headers).get('range');
    if (range) network.ranges.push(range);
    if ((init?.method ?? 'GET') === 'GET' && network.cutNextDownload) {
      // The first MiB arrives, then the connection breaks.
      network.cutNextDownload = false;
      const reader = (await fetch(input, init)).body!.getReader();
      let sent = 0;
      return new Response(new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done || sent >= MiB) {
            await reader.cancel();
            return controller.error(new TypeError('terminated'));
          }
          sent += value.length;
          controller.enqueue(value);
        },
      }));
    }
    if (init?.method === 'PATCH' && network.cutNextPatch) {
      network.cutNextPatch = false;
      const body = init.body as Uint8Array;
      const reply = await fetch(input, { ...init, body: body.subarray(0, Math.floor(body.length / 2)) as unknown as BodyInit });
      expect(reply.status).toBe(204); // the relay kept the first half…
      throw new TypeError('fetch failed'); // …and the client never heard so
    }
    return fetch(input, init);
  };

  const storedBlobs = async (): Promise<number> => {
    const text = await (await fetch(`${relay.url}/metrics`)).text();
    return Number(/^sealpost_attachments_stored (\d+)$/m.exec(text)?.[1]);
  };

  const received = (device: TestDevice): Array<MessageEvent & { attachment: AttachmentPointer }> =>
    device.seen.filter((m): m is MessageEvent & { attachment: AttachmentPointer } => m.attachment !== undefined);

  beforeAll(async () => {
    relay = await startRelay();
    for (const handle of ['alice', 'bob', 'carol']) devices[handle] = await registerDevice(root.path, relay.url, handle);
    devices.erin = await registerDevice(root.path, relay.url, 'erin', { fetch: flaky });
    devices.laptop = await linkDevice(root.path, relay.url, devices.alice!, 'alice-laptop');
  });

  afterAll(async () => {
    for (const device of Object.values(devices)) await device.client.close();
    await relay?.close();
    root.remove();
    files.remove();
  });

  it('sends an image with its size, thumbnail and caption to the recipient and to the sender\'s other device', async () => {
    const { alice, bob, laptop } = devices as Record<string, TestDevice>;
    const png = randomFillSync(new Uint8Array(3_000));
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    new TextEncoder().encodeInto(MARKER, png.subarray(100));
    const thumbnail = randomFillSync(new Uint8Array(1_500));
    const file = fileFromBlob(new Blob([png], { type: 'image/png' }), { fileName: 'secret-holiday.png', width: 640, height: 480, thumbnail });
    const sent = await alice!.client.sendFile({ handle: 'bob' }, file, { caption: CAPTION });
    await sent.stored;
    await waitFor(() => received(bob!).length === 1 && received(laptop!).length === 1, 'bob and alice\'s laptop get the image');

    const atBob = received(bob!)[0]!;
    expect(atBob).toMatchObject({ id: sent.id, from: 'alice', text: CAPTION, outgoing: false });
    expect(atBob.attachment).toMatchObject({ fileName: 'secret-holiday.png', contentType: 'image/png', size: 3_000, width: 640, height: 480, thumbnail: toBase64Url(thumbnail) });
    expect(received(laptop!)[0]).toMatchObject({ id: sent.id, outgoing: true, attachment: atBob.attachment });
    const digest = createHash('sha256').update(png).digest('hex');
    expect(await sha256Of(bob!.client.downloadAttachment(atBob.attachment))).toBe(digest);
    expect(await sha256Of(laptop!.client.downloadAttachment(received(laptop!)[0]!.attachment))).toBe(digest);
    // Kept in the history like a text.
    expect(bob!.client.messages({ kind: 'direct', handle: 'alice' }).at(-1)).toMatchObject({ id: sent.id, text: CAPTION, attachment: atBob.attachment });
  });

  it('sends a 20 MiB file read from disk, with upload and download progress', async () => {
    const { alice, bob } = devices as Record<string, TestDevice>;
    const source = randomFile(files.path, 'report.bin', 20 * MiB);
    const progress: TransferProgress[] = [];
    const sent = await alice!.client.sendFile({ handle: 'bob' }, await fileFromPath(source.path), { onProgress: (p) => progress.push(p) });
    await sent.stored;
    expect(progress.at(-1)).toEqual({ done: progress[0]!.total, total: progress[0]!.total });
    expect(progress.length).toBeGreaterThanOrEqual(6); // the first report, then one per 4 MiB PATCH
    expect(progress.every((p, i) => i === 0 || p.done > progress[i - 1]!.done)).toBe(true);

    await waitFor(() => received(bob!).some((m) => m.id === sent.id), 'bob gets the file');
    const downloaded: TransferProgress[] = [];
    expect(await sha256Of(bob!.client.downloadAttachment(sent.attachment, { onProgress: (p) => downloaded.push(p) }))).toBe(source.sha256);
    expect(downloaded.at(-1)?.done).toBe(downloaded.at(-1)?.total);
  });

  it('uploads once for a whole group', async () => {
    const { alice, bob, carol } = devices as Record<string, TestDevice>;
    const group = await alice!.client.createGroup('files', ['bob', 'carol']);
    await waitFor(() => bob!.client.groups().length === 1 && carol!.client.groups().length === 1, 'members hold the group');
    const before = await storedBlobs();
    const source = randomFile(files.path, 'group.bin', 300_000);
    const sent = await alice!.client.sendFile({ groupId: group.groupId }, await fileFromPath(source.path));
    await sent.stored;
    await waitFor(() => [bob!, carol!].every((d) => received(d).some((m) => m.id === sent.id)), 'both members get the file');
    expect(await storedBlobs()).toBe(before + 1);
    for (const member of [bob!, carol!]) {
      const message = received(member).find((m) => m.id === sent.id)!;
      expect(message.conversation).toEqual({ kind: 'group', groupId: group.groupId });
      expect(message.attachment.id).toBe(sent.attachment.id);
      expect(await sha256Of(member.client.downloadAttachment(message.attachment))).toBe(source.sha256);
    }
  });

  it('resumes by itself after a PATCH is cut off halfway (HEAD, then the rest of the chunk), and a cut download with a Range', async () => {
    const { erin } = devices as Record<string, TestDevice>;
    const source = randomFile(files.path, 'flaky.bin', 10 * MiB);
    const upload = erin!.client.prepareUpload(await fileFromPath(source.path));
    const offsets: number[] = [];
    const pointer = await upload.start({
      onProgress: ({ done }) => {
        offsets.push(done);
        if (done === 4 * MiB) network.cutNextPatch = true;
      },
    });
    expect(network.cutNextPatch).toBe(false); // the cut happened
    expect(network.heads).toBe(1);
    expect(network.posts).toBe(1);
    expect(offsets).toEqual([0, 4 * MiB, 8 * MiB, upload.total]);

    // A download cut after its first MiB goes on with a Range from where it stopped.
    network.cutNextDownload = true;
    expect(await sha256Of(erin!.client.downloadAttachment(pointer))).toBe(source.sha256);
    expect(network.cutNextDownload).toBe(false);
    expect(network.ranges).toHaveLength(1);
    expect(Number(/^bytes=(\d+)-$/.exec(network.ranges[0]!)?.[1])).toBeGreaterThanOrEqual(MiB);

    // Cancelled downloads stop with their own code.
    const stop = new AbortController();
    expect(await failure(erin!.client.downloadAttachment(pointer, { signal: stop.signal, onProgress: ({ done }) => done > MiB && stop.abort() }))).toBe('cancelled');
  });

  it('resumes a cancelled upload when it is started again, sending only what the relay lacks', async () => {
    const { alice, bob } = devices as Record<string, TestDevice>;
    const source = randomFile(files.path, 'cancelled.bin', 10 * MiB);
    const before = await storedBlobs();
    const upload = alice!.client.prepareUpload(await fileFromPath(source.path));
    const stop = new AbortController();
    const first = upload.start({ signal: stop.signal, onProgress: ({ done }) => done >= 4 * MiB && stop.abort() });
    await expect(first).rejects.toMatchObject({ code: 'cancelled' });

    const again: number[] = [];
    const pointer = await upload.start({ onProgress: ({ done }) => again.push(done) });
    expect(again[0]).toBeGreaterThanOrEqual(4 * MiB); // where the relay stood, from HEAD
    expect(again.at(-1)).toBe(upload.total);
    expect(await storedBlobs()).toBe(before + 1);
    const sent = await alice!.client.sendAttachment({ handle: 'bob' }, pointer);
    await waitFor(() => received(bob!).some((m) => m.id === sent.id), 'bob gets the resumed file');
    expect(await sha256Of(bob!.client.downloadAttachment(pointer))).toBe(source.sha256);
  });

  it('refuses a wrong digest, a truncated blob and a missing blob with typed errors', async () => {
    const { alice, bob } = devices as Record<string, TestDevice>;
    const pointer = received(bob!)[0]!.attachment;
    const digest = Buffer.from(pointer.digest, 'base64url');
    digest[0]! ^= 1;
    expect(await failure(bob!.client.downloadAttachment({ ...pointer, digest: toBase64Url(digest) }))).toBe('digest_mismatch');
    expect(await failure(bob!.client.downloadAttachment({ ...pointer, id: toBase64Url(randomFillSync(new Uint8Array(32))) }))).toBe('not_found');

    // A blob the relay holds whole, but cut: the first 100 KiB of a real one.
    const plaintext = randomFillSync(new Uint8Array(300_000));
    const secrets = createAttachmentSecrets();
    const ciphertext = encryptAttachment((async function* () { yield plaintext; })(), plaintext.length, secrets);
    const parts: Uint8Array[] = [];
    for await (const part of ciphertext) parts.push(part);
    const cut = Buffer.concat(parts).subarray(0, 100 * 1024);
    const slot = await new RelayHttp(relay.url).createAttachment(cut.length, deviceSigner(alice!.client.account!));
    expect(await new BlobHttp(relay.url).append(slot, 0, cut)).toBe(cut.length);
    const truncated: AttachmentPointer = {
      id: slot.id, key: toBase64Url(secrets.key), digest: toBase64Url(ciphertext.digest()), size: plaintext.length, contentType: 'application/octet-stream', fileName: 'cut.bin',
    };
    expect(await failure(bob!.client.downloadAttachment(truncated))).toBe('truncated');
  });

  it('refuses a file over 100 MiB before uploading anything', async () => {
    const { alice } = devices as Record<string, TestDevice>;
    const path = join(files.path, 'huge.bin');
    writeFileSync(path, '');
    truncateSync(path, 100 * MiB + 1); // sparse: nothing is written
    const before = await storedBlobs();
    const refused = alice!.client.sendFile({ handle: 'bob' }, await fileFromPath(path));
    await expect(refused).rejects.toMatchObject({ code: 'too_large', message: expect.stringContaining('up to 100 MiB') });
    expect(await storedBlobs()).toBe(before);
  });

  it('refuses a malformed pointer on receipt', async () => {
    const { alice, bob } = devices as Record<string, TestDevice>;
    const rejected = bob!.client.once('rejected');
    const pointer = received(bob!)[0]!.attachment;
    // Past the SDK's own checks, as a modified client would send it: a 9 KiB thumbnail.
    const outgoing = (alice!.client as unknown as { wire(): { outgoing: { text(r: string[], c: unknown, t: string, a: unknown): Promise<unknown> } } }).wire().outgoing;
    await outgoing.text(['bob'], { kind: 'direct', handle: 'bob' }, '', { ...pointer, thumbnail: toBase64Url(new Uint8Array(9 * 1024)) });
    expect(await rejected).toMatchObject({ code: 'invalid_content' });
  });

  it('leaves no file bytes, name or caption in anything the relay wrote', async () => {
    await expectNoNeedles(relaySources(relay), [MARKER, 'secret-holiday.png', CAPTION]);
    // Control: the scan reads the stored blobs (a stretch of one is found).
    const blob = Buffer.from(await (await fetch(`${relay.url}/v2/attachments/${received(devices.bob!)[0]!.attachment.id}`)).arrayBuffer());
    const report = await scanForNeedles(relaySources(relay), [{ name: 'stored ciphertext', bytes: blob.subarray(1_000, 1_064) }]);
    expect(report.hits.some((hit) => hit.where.includes(`${join('blobs', '')}`))).toBe(true);
  });
});
