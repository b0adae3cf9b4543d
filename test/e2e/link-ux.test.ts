/**
 * Linking a new browser to an account, as people do it (issue 19, item 7), in Chromium against a
 * real relay:
 *  - the new device shows its code with Copy (the code lands on the clipboard, "Copied"), a QR
 *    code, and when the code expires, kept up to date;
 *  - on the approving device a mistyped code gets human words, and a code typed in lower case
 *    with spaces for dashes links;
 *  - scanning: a second Chromium whose camera is a fake one playing a Y4M video of the QR code
 *    (drawn with the `qrcode` library the app draws it with) fills in the code and links;
 *  - a browser with no camera shows no scan button; a camera the page may not use is said in words.
 * The name chosen on the new device while its code was shown reaches the approving device.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions } from 'playwright-core';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../support/browser.js';
import { tempDir } from '../sdk/helpers.js';
import { deviceRow, openDevices, openPage, register, waitConnected, type WatchedPage } from './helpers.js';
import { DESKTOP, PHONE, openStage, type Stage } from './stage.js';

/**
 * A Y4M video (4:2:0, a few identical frames; Chromium loops it) of `text` as a QR code, black on
 * white in the middle of a 640×480 picture, drawn module by module from the qrcode library's matrix.
 */
function writeQrVideo(text: string, path: string): void {
  const width = 640;
  const height = 480;
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const quiet = 4;
  const scale = Math.floor(Math.min(width, height) / (modules.size + 2 * quiet));
  const left = Math.floor((width - modules.size * scale) / 2);
  const top = Math.floor((height - modules.size * scale) / 2);
  const luma = Buffer.alloc(width * height, 235); // video-range white
  for (let row = 0; row < modules.size; row++) {
    for (let col = 0; col < modules.size; col++) {
      if (!modules.get(row, col)) continue;
      for (let y = 0; y < scale; y++) luma.fill(16, (top + row * scale + y) * width + left + col * scale, (top + row * scale + y) * width + left + (col + 1) * scale);
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2), 128); // no colour
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma, chroma]);
  writeFileSync(path, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`), frame, frame, frame, frame, frame]));
}

describe('linking a device in the web client', () => {
  let stage: Stage;
  let cameraBrowser: Browser | undefined;
  const files = tempDir('sealpost-e2e-link-ux-');
  let tablet: WatchedPage;
  let phone: WatchedPage;
  let alice: WatchedPage;
  let tabletCode: string;
  let phoneCode: string;

  /** A page in a fresh context of the second Chromium, the one with a fake camera (the stage's has none). */
  const cameraPage = async (name: string, options: BrowserContextOptions) => {
    const context = await cameraBrowser!.newContext({ viewport: DESKTOP, ...options });
    stage.contexts.push(context);
    return openPage(context, name, stage.relay.url, stage.pages);
  };

  beforeAll(async () => {
    stage = await openStage();
  });

  afterAll(async () => {
    await cameraBrowser?.close();
    await stage?.close();
    files.remove();
  });

  it('shows the code with Copy, a QR code and when it expires, kept up to date', async () => {
    tablet = await stage.page('tablet', { permissions: ['clipboard-read', 'clipboard-write'] });
    // A fake clock (it runs on by itself) set 50 s back, so moving it on a minute to see the
    // expiry change keeps the page's signed requests within the relay's 60 s of accepted skew.
    await tablet.page.clock.install({ time: Date.now() - 50_000 });
    await tablet.page.reload();
    await tablet.page.getByRole('button', { name: 'Link to an existing account' }).click();
    tabletCode = (await tablet.page.getByTestId('link-code').textContent())?.trim() ?? '';
    expect(tabletCode).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){15}$/);
    await tablet.page.getByRole('img', { name: 'Link code as a QR code' }).waitFor();

    await tablet.page.getByRole('button', { name: 'Copy code' }).click();
    await tablet.page.getByText('Copied').waitFor();
    expect(await tablet.page.evaluate(() => navigator.clipboard.readText())).toBe(tabletCode);

    const expiry = tablet.page.getByTestId('link-code-expiry');
    await expiry.getByText(/^This code expires at \d{1,2}:\d{2}( [AP]M)?, in 10 minutes\./).waitFor();
    const at = (await expiry.textContent())?.match(/expires at ([^,]+),/)?.[1];
    await tablet.page.clock.fastForward('01:00');
    await expiry.getByText(`This code expires at ${at}, in 9 minutes.`).waitFor();

    // The new device's name, chosen while it waits (the field suggests one from the browser).
    const name = tablet.page.getByLabel('Name for this device');
    expect(await name.inputValue()).toBe('Chromium on Linux');
    await name.fill('Kitchen tablet');
  }, 40_000);

  it('says what is wrong with a mistyped code, and links one typed in lower case with spaces', async () => {
    phone = await stage.page('phone', { viewport: PHONE });
    await phone.page.getByRole('button', { name: 'Link to an existing account' }).click();
    phoneCode = (await phone.page.getByTestId('link-code').textContent())?.trim() ?? '';

    alice = await stage.person('alice');
    await openDevices(alice.page);
    const field = alice.page.getByLabel('Link code');
    const typo = tabletCode.slice(0, 12) + (tabletCode[12] === 'A' ? 'B' : 'A') + tabletCode.slice(13);
    await field.fill(typo);
    await alice.page.getByRole('button', { name: 'Link device' }).click();
    await alice.page.getByRole('alert').getByText('That code has a typo: check it against the other device.').waitFor();
    await field.fill(tabletCode.slice(0, 50));
    await alice.page.getByRole('button', { name: 'Link device' }).click();
    await alice.page.getByRole('alert').getByText(/^That code is too short: part of it is missing/).waitFor();
    expect(await alice.page.getByText(/checksum|mistyped|invalid_encoding/).count()).toBe(0);

    await field.fill(tabletCode.toLowerCase().replaceAll('-', ' '));
    await alice.page.getByRole('button', { name: 'Link device' }).click();
    await waitConnected(tablet.page);
    await alice.page.getByTestId('link-success').waitFor();
    // The name typed on the tablet while it waited is the one its account's devices show.
    await alice.page.locator('.devices li .device-name').getByText('Kitchen tablet', { exact: true }).waitFor();
    await alice.page.getByTestId('link-success').getByText('Kitchen tablet').waitFor();
  }, 45_000);

  it('shows no scan button where the browser has no camera', async () => {
    const cameras = await alice.page.evaluate(async () => (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput').length);
    expect(cameras).toBe(0);
    await alice.page.getByRole('button', { name: 'Link device' }).waitFor();
    expect(await alice.page.getByRole('button', { name: 'Scan QR code' }).count()).toBe(0);
  });

  it('scans the QR code from the camera, which fills in the code and links the device', async () => {
    // The phone's code as the fake camera's picture, drawn by the library the app draws it with.
    const video = join(files.path, 'link-code.y4m');
    writeQrVideo(phoneCode, video);
    cameraBrowser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
    });
    const bob = await cameraPage('bob (camera)', { permissions: ['camera'] });
    await register(bob.page, 'bob');
    // Debian's Chromium on Linux has no BarcodeDetector, so this is the jsQR path.
    expect(await bob.page.evaluate(() => 'BarcodeDetector' in window)).toBe(false);
    await openDevices(bob.page);
    // bob's own phone is the one showing the code: scan it.
    await bob.page.getByRole('button', { name: 'Scan QR code' }).click();
    // The scanned code fills the field, and approving starts (the phone takes a second to confirm).
    await bob.page.getByTestId('link-waiting').waitFor();
    expect(await bob.page.getByLabel('Link code').inputValue()).toBe(phoneCode);
    await waitConnected(phone.page);
    await bob.page.getByTestId('link-success').waitFor();
    expect(await bob.page.getByLabel('Link code').inputValue()).toBe('');
    expect(await bob.page.locator('.scanner-video').count()).toBe(0); // the camera view closed
    await openDevices(phone.page);
    const ownId = (await phone.page.locator('.devices li[data-current="true"]').getAttribute('data-device-id')) ?? '';
    await deviceRow(bob.page, ownId).locator('.device-name').getByText('Chromium on Linux', { exact: true }).waitFor();
  }, 60_000);

  it('says so in words when the camera may not be used, and goes back to typing', async () => {
    // No camera permission in this context: Chromium refuses getUserMedia.
    const carol = await cameraPage('carol (camera refused)', { viewport: PHONE });
    await register(carol.page, 'carol');
    await openDevices(carol.page);
    await carol.page.getByRole('button', { name: 'Scan QR code' }).click();
    await carol.page.getByRole('alert').getByText(/^Sealpost may not use the camera\. Allow it in the browser’s settings/).waitFor();
    await carol.page.getByRole('button', { name: 'Stop scanning' }).press('Escape');
    expect(await carol.page.locator('.scanner').count()).toBe(0);
    await carol.page.getByLabel('Link code').waitFor();
  }, 30_000);

  it('left no console or page errors', () => {
    for (const page of stage.pages) expect(page.problems, page.name).toEqual([]);
    for (const page of stage.pages) expect(page.dialogs, page.name).toEqual([]);
  });
});
