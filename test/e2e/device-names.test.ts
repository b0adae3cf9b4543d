/**
 * Device names in the web client (issue 19, item 8), two browsers of one account against a real
 * relay: each browser names itself when it joins (a suggestion such as "Chromium on Linux", or
 * what the user typed while linking), the Devices screen shows names first with the id as small
 * secondary text, a rename on either device shows on the other, and none of the names ever
 * reaches what the relay writes (database, queue log, log file, log lines).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoNeedles, relaySources, scanForNeedles } from '../support/privacy-scan.js';
import { currentDeviceId, deviceRow, openDevices, register, waitConnected, type WatchedPage } from './helpers.js';
import { PHONE, openStage, type Stage } from './stage.js';

describe('device names in the web client', () => {
  let stage: Stage;
  let desk: WatchedPage;
  let laptop: WatchedPage;
  let deskId: string;
  let laptopId: string;

  const nameIn = (page: WatchedPage, deviceId: string) => deviceRow(page.page, deviceId).locator('.device-name');

  beforeAll(async () => {
    stage = await openStage();
  });

  afterAll(async () => {
    await stage?.close();
  });

  it('names a new account’s first browser from its platform, with the id as secondary text', async () => {
    desk = await stage.page('desk');
    await register(desk.page, 'erin.home');
    await openDevices(desk.page);
    deskId = await currentDeviceId(desk.page);
    await nameIn(desk, deskId).getByText('Chromium on Linux', { exact: true }).waitFor();
    const meta = await deviceRow(desk.page, deskId).getByTestId('device-meta').textContent();
    expect(meta).toContain(`id ${deskId.slice(0, 8)}…`);
    expect(await deviceRow(desk.page, deskId).getByTestId('device-meta').getAttribute('title')).toBe(deskId);
  }, 30_000);

  it('takes the name typed while linking, and shares both names both ways', async () => {
    laptop = await stage.page('laptop', { viewport: PHONE });
    await laptop.page.getByRole('button', { name: 'Link to an existing account' }).click();
    const code = (await laptop.page.getByTestId('link-code').textContent())?.trim() ?? '';
    await laptop.page.getByLabel('Name for this device').fill('Work laptop');
    await desk.page.getByLabel('Link code').fill(code);
    await desk.page.getByRole('button', { name: 'Link device' }).click();
    await waitConnected(laptop.page);
    await desk.page.getByTestId('link-success').waitFor();
    await openDevices(laptop.page);
    laptopId = await currentDeviceId(laptop.page);
    await nameIn(desk, laptopId).getByText('Work laptop', { exact: true }).waitFor();
    await nameIn(laptop, laptopId).getByText('Work laptop', { exact: true }).waitFor();
    await nameIn(laptop, deskId).getByText('Chromium on Linux', { exact: true }).waitFor();
    // Names first: no row shows a bare id as its name.
    for (const page of [desk, laptop]) {
      expect(await page.page.locator('.devices .device-name').allTextContents()).not.toContainEqual(expect.stringMatching(/Unnamed/));
    }
  }, 45_000);

  it('shows a rename made on one device on the other, from the linked device too', async () => {
    // On the linked laptop (no authority): rename the desk.
    await deviceRow(laptop.page, deskId).getByRole('button', { name: 'Rename Chromium on Linux' }).click();
    const field = laptop.page.getByLabel('Device name');
    expect(await field.inputValue()).toBe('Chromium on Linux');
    await field.fill('   ');
    expect(await laptop.page.getByRole('button', { name: 'Save name' }).isDisabled()).toBe(true);
    await field.fill('Home  desktop ');
    await field.press('Enter');
    await nameIn(laptop, deskId).getByText('Home desktop', { exact: true }).waitFor();
    await nameIn(desk, deskId).getByText('Home desktop', { exact: true }).waitFor();

    // On the desk: rename the laptop; Escape cancels a rename without saving.
    await deviceRow(desk.page, laptopId).getByRole('button', { name: 'Rename Work laptop' }).click();
    await desk.page.getByLabel('Device name').fill('Not this');
    await desk.page.getByLabel('Device name').press('Escape');
    expect(await desk.page.getByLabel('Device name').count()).toBe(0);
    await deviceRow(desk.page, laptopId).getByRole('button', { name: 'Rename Work laptop' }).click();
    await desk.page.getByLabel('Device name').fill('Travel laptop');
    await desk.page.getByRole('button', { name: 'Save name' }).click();
    await nameIn(desk, laptopId).getByText('Travel laptop', { exact: true }).waitFor();
    await nameIn(laptop, laptopId).getByText('Travel laptop', { exact: true }).waitFor();

    // Names survive a reload (kept in the browser's store, not fetched from the relay).
    await laptop.page.reload();
    await waitConnected(laptop.page);
    await openDevices(laptop.page);
    await nameIn(laptop, deskId).getByText('Home desktop', { exact: true }).waitFor();
  }, 45_000);

  it('never lets a name reach what the relay writes or logs', async () => {
    await expectNoNeedles(relaySources(stage.relay), ['Chromium on Linux', 'Work laptop', 'Home desktop', 'Travel laptop', 'Not this']);
    // The same scan does find what the relay does keep in plain: the account's handle.
    const report = await scanForNeedles(relaySources(stage.relay), ['erin.home']);
    expect(report.hits.map((hit) => hit.needle)).toContain('erin.home');
  });

  it('left no console or page errors', () => {
    for (const page of stage.pages) expect(page.problems, page.name).toEqual([]);
    for (const page of stage.pages) expect(page.dialogs, page.name).toEqual([]);
  });
});
