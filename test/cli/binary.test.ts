/**
 * The built `sealpost` binary as a user runs it (child processes of `node dist/bin/sealpost.js`,
 * which `npm test` builds first): client subcommands load from the build, register two
 * profiles against a real relay, send, listen, and agree on the safety number.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { tempDir } from '../sdk/helpers.js';

const execFileAsync = promisify(execFile);
const BIN = resolve('dist/bin/sealpost.js');

async function sealpost(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [BIN, ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('the built sealpost binary', () => {
  let relay: RelayHandle;
  const root = tempDir('sealpost-bin-');
  const alice = join(root.path, 'alice');
  const bob = join(root.path, 'bob');

  beforeAll(async () => {
    if (!existsSync(BIN)) throw new Error('dist/bin/sealpost.js is missing: run `npm run build` first');
    relay = await startRelay();
  });

  afterAll(async () => {
    await relay?.close();
    root.remove();
  });

  it('runs client subcommands from the build', async () => {
    const help = await sealpost('register', '--help');
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('--handle');
  });

  it('registers, sends, listens and prints matching safety numbers', async () => {
    for (const [handle, profile] of [['alice', alice], ['bob', bob]] as const) {
      const registered = await sealpost('register', '--relay', relay.url, '--handle', handle, '--profile', profile);
      expect(registered.code, registered.stderr).toBe(0);
    }
    const sent = await sealpost('send', 'bob', 'hello from the binary', '--profile', alice);
    expect(sent.code, sent.stderr).toBe(0);
    const listened = await sealpost('listen', '--count', '1', '--profile', bob);
    expect(listened.code, listened.stderr).toBe(0);
    expect(JSON.parse(listened.stdout.trim())).toMatchObject({ from: 'alice', text: 'hello from the binary' });

    const [fromBob, fromAlice] = await Promise.all([
      sealpost('safety-number', 'alice', '--profile', bob),
      sealpost('safety-number', 'bob', '--profile', alice),
    ]);
    expect(fromBob.stdout.trim()).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(fromAlice.stdout.trim()).toBe(fromBob.stdout.trim());
  });
});
