/**
 * Files in the web client (issue 20 item 1, the app's part), in Chromium against a real relay:
 * alice and bob are two browser profiles; carol and alice's tablet are Node SDK clients for the
 * group and own-device step. A picture sent with the file picker shows as its thumbnail first and
 * then at its full natural size; 20 MiB dropped on the conversation arrive byte for byte through
 * Download; a file over 100 MiB is refused before any request; a cancelled upload resumes with
 * Retry from where the relay stands; a picture pasted into a group is uploaded once for every
 * member and own device; rows of files never widen the page at desktop or phone width. Steps run
 * in order and share state.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import type { Locator, Page, Request, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDevice, registerDevice, tempDir, waitFor, type TestDevice } from '../sdk/helpers.js';
import { openConversation, seeText, sendText, waitConnected, type WatchedPage } from './helpers.js';
import { DESKTOP, PHONE, SHOTS, openStage, type Stage } from './stage.js';

const MiB = 1024 * 1024;
const LONG_NAME = 'quarterly_figures_for_the_whole_team_with_a_name_that_has_no_place_to_break_a_line_2025_final.bin';

/** A PNG of `width`×`height` RGB noise (so it does not compress to nothing). */
function png(width: number, height: number): Buffer {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  const noise = randomBytes(width * 3 * height);
  for (let y = 0; y < height; y++) noise.copy(rows, y * (width * 3 + 1) + 1, y * width * 3, (y + 1) * width * 3);
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Picks files through the Attach button and the file chooser it opens. */
async function pickFiles(page: Page, files: Array<{ name: string; mimeType: string; buffer: Buffer }>): Promise<void> {
  const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Attach files' }).click()]);
  await chooser.setFiles(files);
}

/**
 * Drops a file made in the page on the open conversation, as a drag from the desktop does:
 * `size` bytes of a seeded generator, or (`huge`) a File of repeated 1 MiB Blob slices, which
 * costs no memory however large it claims to be. Resolves to the file's SHA-256.
 */
async function dropFile(page: Page, file: { name: string; size: number; huge?: boolean }): Promise<string> {
  return page.evaluate(async ({ name, size, huge }) => {
    let parts: BlobPart[];
    let hash = '';
    if (huge) {
      const slice = new Blob([new Uint8Array(1024 * 1024)]);
      parts = Array.from({ length: Math.ceil(size / (1024 * 1024)) }, () => slice);
    } else {
      const words = new Uint32Array(size / 4);
      let state = 0x9e3779b9;
      for (let i = 0; i < words.length; i++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        words[i] = state >>> 0;
      }
      parts = [words];
      hash = [...new Uint8Array(await crypto.subtle.digest('SHA-256', words))].map((b) => b.toString(16).padStart(2, '0')).join('');
    }
    const transfer = new DataTransfer();
    transfer.items.add(new File(parts, name, { type: 'application/octet-stream' }));
    const target = document.querySelector('.conversation .timeline') ?? document.querySelector('.conversation');
    for (const type of ['dragenter', 'dragover', 'drop']) {
      target!.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }
    return hash;
  }, file);
}

/** Holds `page`'s requests to the blob routes that `hold` picks until released; the rest pass. */
async function holdBlobRequests(page: Page, hold: (request: Request) => boolean) {
  const held: Route[] = [];
  const handler = async (route: Route) => {
    if (hold(route.request())) held.push(route);
    else await route.continue().catch(() => undefined);
  };
  await page.route('**/v2/attachments/**', handler);
  return {
    held,
    /** Stops holding; what was held goes on to the relay (`pass`) or is failed as a cut connection. */
    release: async (pass: boolean) => {
      await page.unroute('**/v2/attachments/**', handler);
      for (const route of held.splice(0)) await (pass ? route.continue() : route.abort('connectionreset')).catch(() => undefined);
    },
  };
}

async function naturalSize(image: Locator): Promise<[number, number]> {
  return image.evaluate(async (element: HTMLImageElement) => {
    await element.decode();
    return [element.naturalWidth, element.naturalHeight] as [number, number];
  });
}

describe('attachments in the web client (Chromium)', () => {
  let stage: Stage;
  const profiles = tempDir('sealpost-e2e-attachments-');
  const sdkDevices: TestDevice[] = [];
  let alice: WatchedPage;
  let bob: WatchedPage;
  /** Every request alice's page made to the blob routes: method and Upload-Offset. */
  const aliceBlobRequests: Array<{ method: string; offset: string | undefined }> = [];

  beforeAll(async () => {
    stage = await openStage();
    alice = await stage.person('alice');
    alice.page.on('request', (request) => {
      if (request.url().includes('/v2/attachments')) aliceBlobRequests.push({ method: request.method(), offset: request.headers()['upload-offset'] });
    });
    bob = await stage.person('bob');
    await alice.page.getByLabel('Start a conversation').fill('bob');
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    await sendText(alice.page, 'Files coming your way');
    await openConversation(bob.page, 'd:alice');
    await seeText(bob.page, 'Files coming your way');
  }, 60_000);

  afterAll(async () => {
    for (const device of sdkDevices) await device.client.close().catch(() => undefined);
    await stage?.close();
    profiles.remove();
  });

  it('shows a picture sent with the file picker as its thumbnail at once, then at its full size, and opens it large', async () => {
    // bob's download waits, so that what he sees before it arrives can be checked.
    const bobDownloads = await holdBlobRequests(bob.page, (request) => request.method() === 'GET');
    await pickFiles(alice.page, [{ name: 'harbour.png', mimeType: 'image/png', buffer: png(1200, 800) }]);
    // alice's own copy is shown from the file she picked: no download.
    const mine = alice.page.locator('.bubble.outgoing .image-attachment[data-file="harbour.png"] img.full');
    await mine.waitFor();
    expect(await naturalSize(mine)).toEqual([1200, 800]);

    const picture = bob.page.locator('.bubble.incoming .image-attachment[data-file="harbour.png"]');
    try {
      const thumbnail = picture.locator('svg.thumb');
      await thumbnail.waitFor();
      // Laid out at the picture's final size (300 px on its longest side), not the thumbnail's.
      expect(await thumbnail.getAttribute('aria-label')).toBe('harbour.png');
      expect([await thumbnail.getAttribute('width'), await thumbnail.getAttribute('height')]).toEqual(['300', '200']);
      const box = await thumbnail.boundingBox();
      expect([Math.round(box!.width), Math.round(box!.height)]).toEqual([300, 200]);
      const src = (await thumbnail.locator('image').getAttribute('href')) ?? '';
      const jpeg = Buffer.from(src.replace(/^data:image\/jpeg;base64,/, ''), 'base64');
      expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      expect(jpeg.length).toBeLessThanOrEqual(8 * 1024);
      const thumbnailSize = await bob.page.evaluate(async (url) => {
        const image = new Image();
        image.src = url;
        await image.decode();
        return [image.naturalWidth, image.naturalHeight];
      }, src);
      // Small (64 to 128 px on its longest side, as the app makes it), with the picture's proportions.
      expect(Math.max(...thumbnailSize)).toBeLessThanOrEqual(128);
      expect(Math.max(...thumbnailSize)).toBeGreaterThanOrEqual(64);
      expect(thumbnailSize[0]! / thumbnailSize[1]!).toBeCloseTo(1.5, 1);
      const progress = picture.getByRole('progressbar', { name: 'Downloading harbour.png' });
      expect(await progress.getAttribute('aria-valuenow')).toBe('0');
      await waitFor(() => bobDownloads.held.length === 1, 'bob’s download of the picture starts');
    } finally {
      await bobDownloads.release(true);
    }

    const full = picture.locator('img.full');
    await full.waitFor();
    expect(await naturalSize(full)).toEqual([1200, 800]);
    expect(await full.getAttribute('alt')).toBe('harbour.png');
    const after = await full.boundingBox();
    expect([Math.round(after!.width), Math.round(after!.height)]).toEqual([300, 200]);

    // Keyboard: open it large, Escape closes it, focus is back on the picture.
    await picture.getByRole('button', { name: 'Open harbour.png' }).focus();
    await bob.page.keyboard.press('Enter');
    const viewer = bob.page.getByRole('dialog', { name: 'harbour.png' });
    await viewer.waitFor();
    expect(await naturalSize(viewer.getByRole('img', { name: 'harbour.png' }))).toEqual([1200, 800]);
    await bob.page.screenshot({ path: resolve(SHOTS, 'attachments-viewer.png') });
    await bob.page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    expect(await bob.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Open harbour.png');
  }, 60_000);

  it('sends 20 MiB dropped on the conversation; bob downloads them and the bytes match', async () => {
    const hash = await dropFile(alice.page, { name: LONG_NAME, size: 20 * MiB });
    await alice.page.locator(`.bubble.outgoing .file-attachment[data-file="${LONG_NAME}"]`).waitFor({ timeout: 90_000 });
    expect(await alice.page.locator('.upload').count()).toBe(0);

    const row = bob.page.locator(`.bubble.incoming .file-attachment[data-file="${LONG_NAME}"]`);
    await row.waitFor();
    expect(await row.locator('.file-size').textContent()).toBe('20 MiB');
    const [download] = await Promise.all([
      bob.page.waitForEvent('download', { timeout: 90_000 }),
      row.getByRole('button', { name: `Download ${LONG_NAME}` }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(LONG_NAME);
    const bytes = await readFile((await download.path())!);
    expect(bytes.length).toBe(20 * MiB);
    expect(sha256(bytes)).toBe(hash);
    await row.getByRole('link', { name: `Save ${LONG_NAME} again` }).waitFor();
  }, 120_000);

  it('refuses a file over 100 MiB before uploading anything, in words', async () => {
    const before = aliceBlobRequests.length;
    await dropFile(alice.page, { name: 'whole-disk.iso', size: 101 * MiB, huge: true });
    const row = alice.page.locator('.upload[data-file="whole-disk.iso"]');
    await row.getByRole('alert').getByText('whole-disk.iso is too large to send (101 MiB; the limit is 100 MiB). Nothing was uploaded.').waitFor();
    expect(await row.getAttribute('data-status')).toBe('refused');
    expect(await row.getByRole('button', { name: /^Retry/ }).count()).toBe(0);
    // "No request" after a pause proves nothing on a slow machine (encrypting 101 MiB would take
    // a while before its first request). Uploads run one at a time, in the order the files came:
    // a small file dropped now is sent only after anything the big one had started. Once the
    // small one is delivered, its own upload must be all the blob routes saw.
    await dropFile(alice.page, { name: 'after-the-refusal.bin', size: 1024 });
    await alice.page.locator('.bubble.outgoing .file-attachment[data-file="after-the-refusal.bin"]').waitFor();
    const sent = aliceBlobRequests.slice(before);
    expect(sent.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(sent.filter((r) => r.method === 'PATCH').map((r) => r.offset)).toEqual(['0']);
    expect(sent.filter((r) => r.method !== 'POST' && r.method !== 'PATCH')).toEqual([]);
    await row.getByRole('button', { name: 'Remove whole-disk.iso' }).click();
    await row.waitFor({ state: 'detached' });
  }, 30_000);

  it('cancels an upload under way, and Retry resumes it where the relay stands', async () => {
    const recording = randomBytes(12 * MiB);
    // The second 4 MiB PATCH is held, so the upload is surely under way when it is cancelled.
    let patches = 0;
    const uploads = await holdBlobRequests(alice.page, (request) => request.method() === 'PATCH' && ++patches === 2);
    try {
      await pickFiles(alice.page, [{ name: 'field-recording.wav', mimeType: 'audio/wav', buffer: recording }]);
      const row = alice.page.locator('.upload[data-file="field-recording.wav"]');
      await waitFor(() => uploads.held.length === 1, 'the second part of the upload is sent');
      const progress = row.getByRole('progressbar', { name: 'Uploading field-recording.wav' });
      await expect.poll(async () => Number(await progress.getAttribute('aria-valuenow'))).toBeGreaterThanOrEqual(30);

      await row.getByRole('button', { name: 'Cancel sending field-recording.wav' }).click();
      await row.getByRole('alert').getByText('Cancelled.').waitFor();
      expect(await row.getAttribute('data-status')).toBe('cancelled');
      // Focus moves from the Cancel button that went to the Retry button that came.
      expect(await alice.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Retry sending field-recording.wav');
      await row.getByRole('button', { name: 'Remove field-recording.wav' }).waitFor();

      const resumedFrom = aliceBlobRequests.length;
      await alice.page.keyboard.press('Enter');
      await alice.page.locator('.bubble.outgoing .file-attachment[data-file="field-recording.wav"]').waitFor({ timeout: 60_000 });
      await row.waitFor({ state: 'detached' });
      const resumed = aliceBlobRequests.slice(resumedFrom);
      // Asked the relay where it stood, and went on from the first 4 MiB: no new upload, nothing sent twice.
      expect(resumed[0]?.method).toBe('HEAD');
      expect(resumed.filter((r) => r.method === 'POST')).toEqual([]);
      expect(resumed.filter((r) => r.method === 'PATCH').map((r) => Number(r.offset))[0]).toBe(4 * MiB);
    } finally {
      await uploads.release(false); // the held part never reaches the relay
    }

    const bobRow = bob.page.locator(`.bubble.incoming .file-attachment[data-file="field-recording.wav"]`);
    const [download] = await Promise.all([bob.page.waitForEvent('download', { timeout: 60_000 }), bobRow.getByRole('button', { name: 'Download field-recording.wav' }).click()]);
    expect(sha256(await readFile((await download.path())!))).toBe(sha256(recording));
  }, 90_000);

  it('uploads a picture pasted into a group once, for every member and alice’s own other device', async () => {
    const carol = await registerDevice(profiles.path, stage.relay.url, 'carol');
    sdkDevices.push(carol);
    // alice's tablet: an SDK client linked to her account from the browser.
    const tablet = await openDevice('alice tablet', resolve(profiles.path, 'alice-tablet'));
    sdkDevices.push(tablet);
    const pending = tablet.client.startLink(stage.relay.url, { pollMs: 50 });
    await alice.page.getByRole('button', { name: 'Devices', exact: true }).click();
    await alice.page.getByLabel('Link code').fill(pending.code);
    await alice.page.getByRole('button', { name: 'Link device' }).click();
    await pending.completed;
    tablet.client.connect();
    await alice.page.getByTestId('link-success').waitFor();

    await alice.page.getByRole('button', { name: 'New group' }).click();
    await alice.page.getByLabel('Group name').fill('Darkroom');
    await alice.page.getByLabel('Members').fill('bob, carol');
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await waitConnected(alice.page);
    const picture = png(40, 30);
    const before = aliceBlobRequests.length;
    await alice.page.locator('#composer-text').evaluate((box, bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'clipboard.png', { type: 'image/png' }));
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
    }, [...picture]);
    expect(await alice.page.locator('#composer-text').inputValue()).toBe('');

    await bob.page.locator('.conversation-title', { hasText: 'Darkroom' }).click();
    const shown = bob.page.locator('.bubble.incoming .image-attachment[data-file="clipboard.png"] img.full');
    await shown.waitFor();
    expect(await naturalSize(shown)).toEqual([40, 30]);
    await waitFor(() => carol.seen.some((m) => m.attachment?.fileName === 'clipboard.png'), 'carol gets the picture');
    await waitFor(() => tablet.seen.some((m) => m.outgoing && m.attachment?.fileName === 'clipboard.png'), 'alice’s tablet gets her copy');
    const forCarol = carol.seen.find((m) => m.attachment?.fileName === 'clipboard.png')!.attachment!;
    const forTablet = tablet.seen.find((m) => m.attachment?.fileName === 'clipboard.png')!.attachment!;
    expect(forTablet.id).toBe(forCarol.id);
    expect([forCarol.width, forCarol.height]).toEqual([40, 30]);
    const parts: Uint8Array[] = [];
    for await (const part of carol.client.downloadAttachment(forCarol)) parts.push(part);
    expect(sha256(Buffer.concat(parts))).toBe(sha256(picture));
    expect(aliceBlobRequests.slice(before).filter((r) => r.method === 'POST')).toHaveLength(1);
  }, 60_000);

  it('keeps rows of files inside the page at desktop and phone width', async () => {
    await openConversation(alice.page, 'd:bob');
    // A refused row with a long name among the pending ones, and the file messages above it.
    await dropFile(alice.page, { name: LONG_NAME.replace('.bin', '.iso'), size: 101 * MiB, huge: true });
    await alice.page.locator('.upload[data-status="refused"]').waitFor();
    await openConversation(bob.page, 'd:alice');
    await bob.page.locator(`.file-attachment[data-file="${LONG_NAME}"]`).waitFor();
    for (const viewport of [DESKTOP, PHONE]) {
      for (const page of [alice, bob]) {
        await page.page.setViewportSize(viewport);
        const layout = await page.page.evaluate(async () => {
          await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
          const width = document.documentElement.clientWidth;
          const rows = [...document.querySelectorAll('.file-attachment, .image-attachment, .upload, .bubble')];
          const timeline = document.querySelector('.timeline')!;
          return {
            rows: rows.length,
            pageWidth: document.documentElement.scrollWidth,
            viewport: window.innerWidth,
            timelineOverflow: timeline.scrollWidth - timeline.clientWidth,
            outside: rows.filter((row) => row.getBoundingClientRect().right > width + 0.5 || row.scrollWidth > row.clientWidth + 1).map((row) => row.className),
          };
        });
        const where = `${page.name} at ${viewport.width}×${viewport.height}`;
        expect(layout.rows, where).toBeGreaterThan(3);
        expect(layout.outside, where).toEqual([]);
        expect(layout.pageWidth, where).toBeLessThanOrEqual(layout.viewport);
        expect(layout.timelineOverflow, where).toBeLessThanOrEqual(0);
        await page.page.screenshot({ path: resolve(SHOTS, `attachments-${page.name}-${viewport.width}.png`) });
      }
    }
  }, 40_000);

  it('left no console or page errors (the CSP refused nothing)', () => {
    for (const page of stage.pages) expect(page.problems, page.name).toEqual([]);
  });
});
