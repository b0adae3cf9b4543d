/**
 * Files with the command-line client, run in-process through the binary's dispatch against a
 * real relay: `send HANDLE --file PATH` (progress on stderr) and `listen --save-dir DIR`, for an
 * image and a 20 MiB file; received names cannot leave DIR or overwrite a file; a file over
 * 100 MiB is refused before anything is uploaded.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as run, type Io } from '../../bin/sealpost.js';
import { safeFileName } from '../../client/cli/attachments.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { tempDir } from '../sdk/helpers.js';

interface Captured extends Io {
  lines: string[];
  errors: string[];
}

function capture(): Captured {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (line) => lines.push(line), err: (line) => errors.push(line) };
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

interface Listened {
  from: string;
  text: string;
  file?: { name: string; type: string; size: number };
  saved?: string;
}

describe('sealpost send --file and listen --save-dir', () => {
  let relay: RelayHandle;
  const root = tempDir('sealpost-cli-files-');
  const alice = join(root.path, 'alice');
  const bob = join(root.path, 'bob');
  const inbox = join(root.path, 'inbox');
  const outbox = join(root.path, 'outbox');

  beforeAll(async () => {
    relay = await startRelay();
    mkdirSync(outbox);
    for (const [handle, profile] of [['alice', alice], ['bob', bob]] as const) {
      expect(await run(['register', '--relay', relay.url, '--handle', handle, '--profile', profile], capture())).toBe(0);
    }
  });

  afterAll(async () => {
    await relay?.close();
    root.remove();
  });

  it('sends an image and a 20 MiB file, and saves both without overwriting a file already there', async () => {
    const png = randomFillSync(new Uint8Array(4_096));
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const big = randomFillSync(Buffer.alloc(20 * 1024 * 1024));
    writeFileSync(join(outbox, 'photo.png'), png);
    writeFileSync(join(outbox, 'data.bin'), big);
    mkdirSync(inbox);
    writeFileSync(join(inbox, 'photo.png'), 'already here');

    const sending = capture();
    expect(await run(['send', 'bob', '--file', join(outbox, 'photo.png'), 'a', 'caption', '--profile', alice], sending), sending.errors.join('\n')).toBe(0);
    expect(JSON.parse(sending.lines[0]!)).toMatchObject({ state: 'stored' });
    const bigSend = capture();
    expect(await run(['send', 'bob', '--file', join(outbox, 'data.bin'), '--profile', alice], bigSend), bigSend.errors.join('\n')).toBe(0);
    expect(bigSend.errors.at(-1)).toMatch(/^uploading data\.bin: 20\.\d \/ 20\.\d MiB \(100%\)$/);
    expect(bigSend.errors.length).toBeGreaterThanOrEqual(5); // one line per PATCH at least

    const listening = capture();
    expect(await run(['listen', '--count', '2', '--save-dir', inbox, '--profile', bob], listening), listening.errors.join('\n')).toBe(0);
    const got = listening.lines.map((line) => JSON.parse(line) as Listened);
    const photo = got.find((m) => m.file?.name === 'photo.png')!;
    const data = got.find((m) => m.file?.name === 'data.bin')!;
    expect(photo).toMatchObject({ from: 'alice', text: 'a caption', file: { type: 'image/png', size: 4_096 } });
    expect(data).toMatchObject({ from: 'alice', text: '', file: { type: 'application/octet-stream', size: big.length } });
    // The file already there is untouched; the new one got a suffix.
    expect(readFileSync(join(inbox, 'photo.png'), 'utf8')).toBe('already here');
    expect(photo.saved).toBe(join(inbox, 'photo (1).png'));
    expect(sha256(readFileSync(photo.saved!))).toBe(sha256(png));
    expect(data.saved).toBe(join(inbox, 'data.bin'));
    expect(sha256(readFileSync(data.saved!))).toBe(sha256(big));
    expect(statSync(data.saved!).mode & 0o777).toBe(0o600);
  });

  it('keeps a sender\'s file name inside the save directory', async () => {
    const evil = join(outbox, 'evil');
    mkdirSync(evil);
    // The CLI sends a path's last component; a modified sender could name anything, so the name is cleaned on receipt.
    expect(safeFileName('../../etc/passwd')).toBe('passwd');
    expect(safeFileName('..')).toBe('attachment');
    expect(safeFileName('.bashrc')).toBe('bashrc');
    expect(safeFileName('C:\\Windows\\evil.exe')).toBe('evil.exe');
    expect(safeFileName('a\u0000b\nc.txt')).toBe('a_b_c.txt');
    expect(safeFileName('x'.repeat(300))).toHaveLength(200);

    writeFileSync(join(evil, '..hidden'), 'secret');
    expect(await run(['send', 'bob', '--file', join(evil, '..hidden'), '--profile', alice], capture())).toBe(0);
    const listening = capture();
    expect(await run(['listen', '--count', '1', '--save-dir', inbox, '--profile', bob], listening)).toBe(0);
    const saved = (JSON.parse(listening.lines[0]!) as Listened).saved!;
    expect(dirname(saved)).toBe(inbox);
    expect(saved).toBe(join(inbox, 'hidden'));
    expect(readdirSync(inbox).sort()).toEqual(['data.bin', 'hidden', 'photo (1).png', 'photo.png']);
  });

  it('refuses a file over 100 MiB before uploading, with a clear error', async () => {
    const huge = join(outbox, 'huge.iso');
    writeFileSync(huge, '');
    truncateSync(huge, 101 * 1024 * 1024); // sparse
    const stored = async (): Promise<number> => Number(/^sealpost_attachments_stored (\d+)$/m.exec(await (await fetch(`${relay.url}/metrics`)).text())?.[1]);
    const before = await stored();
    const refused = capture();
    expect(await run(['send', 'bob', '--file', huge, '--profile', alice], refused)).toBe(1);
    expect(refused.errors.join('\n')).toMatch(/huge\.iso is 101\.0 MiB; files of up to 100 MiB can be sent \[too_large\]/);
    expect(refused.errors.some((line) => line.startsWith('uploading'))).toBe(false);
    expect(await stored()).toBe(before);
  });

  it('says what a missing file or a missing argument is', async () => {
    const missing = capture();
    expect(await run(['send', 'bob', '--file', join(outbox, 'nope.bin'), '--profile', alice], missing)).toBe(1);
    expect(missing.errors.join('\n')).toContain('nope.bin');
    const usage = capture();
    expect(await run(['send', 'bob', '--profile', alice], usage)).toBe(2);
    expect(usage.errors.join('\n')).toContain('HANDLE --file PATH');
  });
});
