/**
 * The binary's one command table (bin/sealpost.ts): every command is listed once in
 * `sealpost --help`, each has its own help with its flags, and usage errors exit 2.
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS, main, type Io } from '../../bin/sealpost.js';
import * as clientCommands from '../../client/cli/main.js';
import * as relayCommands from '../../server/cli.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t) };
  return { ...io, text: () => out.join('\n'), errors: () => err.join('\n') };
}

describe('the sealpost command table', () => {
  it('names each command once', () => {
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['serve', 'register', 'link', 'recover', 'recovery-key', 'send', 'listen', 'safety-number', 'devices']));
  });

  it('runs every command the two sides define, each from one entry', async () => {
    const runners = await Promise.all(COMMANDS.map((c) => c.load()));
    expect(new Set(runners).size).toBe(COMMANDS.length);
    const defined = [...Object.entries(clientCommands), ...Object.entries(relayCommands)].filter(([, value]) => typeof (value as { run?: unknown }).run === 'function');
    for (const [name, runner] of defined) expect(runners, `${name} is not in bin/sealpost.ts COMMANDS`).toContain(runner);
    expect(defined).toHaveLength(COMMANDS.length);
  });

  it('lists every command exactly once in `sealpost --help`, with its summary', async () => {
    const io = capture();
    expect(await main(['--help'], io)).toBe(0);
    const rows = io.text().split('\n').filter((line) => /^ {2}\S/.test(line));
    expect(rows.map((row) => row.trim().split(/\s+/)[0])).toEqual(COMMANDS.map((c) => c.name));
    for (const command of COMMANDS) expect(io.text()).toContain(command.summary);
  });

  it.each(COMMANDS.map((c) => c.name))('`sealpost %s --help` exits 0 and shows its usage, summary and every flag', async (name) => {
    const command = COMMANDS.find((c) => c.name === name)!;
    const runner = await command.load();
    const io = capture();
    expect(await main([name, '--help'], io)).toBe(0);
    expect(io.errors()).toBe('');
    expect(io.text()).toContain(`Usage: sealpost ${name}`);
    expect(io.text()).toContain(command.summary);
    for (const flag of Object.keys(runner.flags)) expect(io.text()).toContain(`--${flag}`);
    const again = capture();
    expect(await main(['help', name], again)).toBe(0);
    expect(again.text()).toBe(io.text());
  });

  it('refuses an unknown command or none with the overview on stderr and exit 2', async () => {
    const unknown = capture();
    expect(await main(['frobnicate'], unknown)).toBe(2);
    expect(unknown.text()).toBe('');
    expect(unknown.errors()).toContain('sealpost: unknown command "frobnicate"');
    for (const { name } of COMMANDS) expect(unknown.errors()).toContain(`  ${name} `);
    const none = capture();
    expect(await main([], none)).toBe(2);
    expect(none.errors()).toContain('Usage: sealpost <command>');
  });

  it("prints a usage error with the command's help and exits 2", async () => {
    const io = capture();
    expect(await main(['serve', '--nope'], io)).toBe(2);
    expect(io.errors()).toMatch(/^sealpost serve: unknown flag --nope\n\nUsage: sealpost serve/);
    const client = capture();
    expect(await main(['listen', '--count'], client)).toBe(2);
    expect(client.errors()).toContain('Usage: sealpost listen [--count N]');
  });
});
