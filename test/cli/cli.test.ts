/**
 * The command-line client, run in-process through the binary's own dispatch (bin/sealpost.ts
 * `main()`, with its output captured) against a real relay: two profiles register, exchange messages with `send` and `listen`,
 * print matching safety numbers, link, name and remove devices, and recover an account.
 */
import { join } from 'node:path';
import { statSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main as run, type Io } from '../../bin/sealpost.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { tempDir } from '../sdk/helpers.js';

interface Captured extends Io {
  lines: string[];
  errors: string[];
}

function capture(signal?: AbortSignal): Captured {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (line) => lines.push(line), err: (line) => errors.push(line), ...(signal ? { signal } : {}) };
}

describe('sealpost client commands', () => {
  let relay: RelayHandle;
  const root = tempDir('sealpost-cli-');
  const alice = join(root.path, 'alice');
  const bob = join(root.path, 'bob');

  beforeAll(async () => {
    relay = await startRelay();
  });

  afterAll(async () => {
    await relay?.close();
    root.remove();
  });

  it('registers two profiles', async () => {
    for (const [handle, profile] of [['alice', alice], ['bob', bob]] as const) {
      const io = capture();
      expect(await run(['register', '--relay', relay.url, '--handle', handle, '--profile', profile], io)).toBe(0);
      expect(JSON.parse(io.lines[0]!)).toMatchObject({ handle, profile });
      expect(statSync(join(profile, 'store.journal')).mode & 0o777).toBe(0o600);
    }
  });

  it('exchanges messages with send and listen', async () => {
    const bobListens = capture();
    const listening = run(['listen', '--count', '2', '--profile', bob], bobListens);
    for (const text of ['hello bob', 'from the command line']) {
      const io = capture();
      expect(await run(['send', 'bob', text, '--profile', alice], io)).toBe(0);
      expect(JSON.parse(io.lines[0]!)).toMatchObject({ state: 'stored' });
    }
    expect(await listening).toBe(0);
    const received = bobListens.lines.map((line) => JSON.parse(line) as { from: string; device: string; text: string; ts: number });
    expect(received.map((m) => m.text)).toEqual(['hello bob', 'from the command line']);
    expect(received.every((m) => m.from === 'alice' && typeof m.ts === 'number' && m.device.length === 43)).toBe(true);

    // The reply is sent while alice is not listening; her next `listen` gets it from the backlog.
    expect(await run(['send', 'alice', 'hi alice', '--profile', bob], capture())).toBe(0);
    const aliceListens = capture();
    expect(await run(['listen', '--count', '1', '--profile', alice], aliceListens)).toBe(0);
    expect(JSON.parse(aliceListens.lines[0]!)).toMatchObject({ from: 'bob', text: 'hi alice' });
  });

  it('prints matching safety numbers on both sides', async () => {
    const fromAlice = capture();
    const fromBob = capture();
    expect(await run(['safety-number', 'bob', '--profile', alice], fromAlice)).toBe(0);
    expect(await run(['safety-number', 'alice', '--profile', bob], fromBob)).toBe(0);
    expect(fromAlice.lines[0]).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(fromBob.lines[0]).toBe(fromAlice.lines[0]);
  });

  it('links a second device and lists and removes devices', async () => {
    const phone = join(root.path, 'alice-phone');
    const stop = new AbortController();
    const linking = capture(stop.signal);
    const pending = run(['link', '--relay', relay.url, '--profile', phone], linking);
    while (linking.lines.length === 0 || linking.errors.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    // stdout: the compact code for scripts; stderr: the form a person types, which --accept takes too (any case).
    expect(linking.lines[0]).toMatch(/^spl2\./);
    const typed = /type it by hand[^:]*: ([0-9A-Z]{5}(?:-[0-9A-Z]{5}){15})$/m.exec(linking.errors.join('\n'))?.[1];
    expect(typed).toBeDefined();
    const approving = capture();
    expect(await run(['link', '--accept', typed!.toLowerCase(), '--profile', alice], approving), approving.errors.join('\n')).toBe(0);
    expect(await pending).toBe(0);
    const phoneId = (JSON.parse(linking.lines[1]!) as { deviceId: string }).deviceId;

    const listed = capture();
    expect(await run(['devices', '--profile', alice], listed)).toBe(0);
    expect(listed.lines.map((line) => (JSON.parse(line) as { deviceId: string }).deviceId)).toContain(phoneId);
    // A device id may begin with "-": after "--" it is never taken for a flag.
    expect(await run(['devices', 'remove', '--profile', alice, '--', phoneId], capture())).toBe(0);
    const after = capture();
    expect(await run(['devices', '--profile', alice], after)).toBe(0);
    expect(after.lines).toHaveLength(1);
  });

  it('names a device for the account\'s own devices', async () => {
    const listed = capture();
    expect(await run(['devices', '--profile', alice], listed)).toBe(0);
    const [own] = listed.lines.map((line) => JSON.parse(line) as { deviceId: string });
    expect(await run(['devices', 'name', '--profile', alice, '--', own!.deviceId, 'Work', 'laptop'], capture())).toBe(0);
    const after = capture();
    expect(await run(['devices', '--profile', alice], after)).toBe(0);
    expect(JSON.parse(after.lines[0]!)).toMatchObject({ deviceId: own!.deviceId, name: 'Work laptop', current: true });
  });

  it('recovers an account on a new profile with the recovery key, which is never taken on the command line', async () => {
    const shown = capture();
    expect(await run(['recovery-key', '--profile', bob], shown)).toBe(0);
    expect(shown.lines[0]).toMatch(/^([a-z2-7]{4}-){13}[a-z2-7]{4}$/);
    expect(shown.errors.join(' ')).toContain('keep it offline');
    const keyFile = join(root.path, 'bob-recovery.txt');
    writeFileSync(keyFile, `${shown.lines[0]}\n`, { mode: 0o600 });

    const fresh = join(root.path, 'bob-new');
    const noKey = capture();
    expect(await run(['recover', '--relay', relay.url, '--handle', 'bob', '--profile', fresh], noKey)).toBe(2);
    expect(noKey.errors.join(' ')).toContain('--recovery-key-file');
    const wrongFile = join(root.path, 'alice-recovery.txt');
    const aliceKey = capture();
    expect(await run(['recovery-key', '--profile', alice], aliceKey)).toBe(0);
    writeFileSync(wrongFile, aliceKey.lines[0]!);
    const wrong = capture();
    expect(await run(['recover', '--relay', relay.url, '--handle', 'bob', '--recovery-key-file', wrongFile, '--profile', fresh], wrong)).toBe(1);
    expect(wrong.errors.join(' ')).toContain('wrong_recovery_key');

    const recovered = capture();
    expect(await run(['recover', '--relay', relay.url, '--handle', 'bob', '--recovery-key-file', keyFile, '--profile', fresh], recovered)).toBe(0);
    expect(JSON.parse(recovered.lines[0]!)).toMatchObject({ handle: 'bob', profile: fresh });
    // The old profile is no longer a device of the account; the recovered one reads new messages.
    const oldDevice = capture();
    expect(await run(['send', 'alice', 'from the lost phone', '--profile', bob], oldDevice)).toBe(1);
    expect(await run(['send', 'bob', 'to the recovered bob', '--profile', alice], capture())).toBe(0);
    const reads = capture();
    expect(await run(['listen', '--count', '1', '--profile', fresh], reads)).toBe(0);
    expect(JSON.parse(reads.lines[0]!)).toMatchObject({ from: 'alice', text: 'to the recovered bob' });
  });

  it('explains usage errors and prints help', async () => {
    const io = capture();
    expect(await run(['send', '--profile', alice], io)).toBe(2);
    expect(io.errors.join('\n')).toContain('Usage: sealpost send HANDLE TEXT');
    const help = capture();
    expect(await run(['listen', '--help'], help)).toBe(0);
    expect(help.lines[0]).toContain('--count');
    const badFlag = capture();
    expect(await run(['send', 'bob', 'x', '--profil', alice], badFlag)).toBe(2);
    expect(badFlag.errors[0]).toContain("sealpost send: Unknown option '--profil'");
    // After --, --help is text to send, not a request for help.
    const literal = capture();
    expect(await run(['send', '--profile', alice, '--', 'bob', '--help'], literal)).toBe(0);
    expect(JSON.parse(literal.lines[0]!)).toMatchObject({ state: 'stored' });
    const unregistered = capture();
    expect(await run(['send', 'bob', 'x', '--profile', join(root.path, 'nobody')], unregistered)).toBe(1);
    expect(unregistered.errors[0]).toContain('not_registered');
  });
});
