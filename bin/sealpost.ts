#!/usr/bin/env node
/**
 * The `sealpost` binary. It belongs to neither side: COMMANDS below is its one table, the
 * relay's `serve` (server/cli.ts) beside the client's commands (client/cli/main.ts), so that
 * server/ never imports client/ nor client/ server/ (test/cli/boundaries.test.ts checks it).
 * Each entry imports its side only when it runs: `serve` loads no client code, and the client's
 * commands never load the relay. Help comes from this table and each command's flags.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One flag as help shows it. */
export interface FlagHelp {
  /** The value's placeholder; none for a switch. */
  readonly value?: string | undefined;
  readonly help: string;
  readonly env?: string | undefined;
  readonly default?: string | undefined;
}

/** Where a command writes: the process, or a capture when tests call main() in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Ends long-running commands from outside (tests); in the process SIGINT and SIGTERM do. */
  signal?: AbortSignal;
}

/**
 * What a side exports for one command; the sides match it by shape, without importing bin/.
 * `run` resolves to the exit code. A failure it has put in words is thrown as an Error with an
 * `exitCode` (2: a usage error, shown with the help); any other error is a bug and keeps its stack.
 */
export interface Runner {
  /** What follows `sealpost <name>`, one entry per form of the command ('' = flags only). */
  readonly usage: readonly string[];
  /** A paragraph of help below the summary. */
  readonly note?: string;
  readonly flags: Readonly<Record<string, FlagHelp>>;
  run(args: string[], io: Io): Promise<number>;
}

export interface Command {
  readonly name: string;
  /** One line, in the command list of `sealpost --help` and on top of the command's help. */
  readonly summary: string;
  load(): Promise<Runner>;
}

const relay = () => import('../server/cli.js');
const client = () => import('../client/cli/main.js');

export const COMMANDS: readonly Command[] = [
  { name: 'serve', summary: 'run the relay', load: async () => (await relay()).serve },
  { name: 'register', summary: 'create an account with this device as its first', load: async () => (await client()).register },
  { name: 'link', summary: 'link this new device to an account, or approve a new device by its code', load: async () => (await client()).link },
  { name: 'recover', summary: 'take an account back on this new device with its recovery key', load: async () => (await client()).recover },
  { name: 'recovery-key', summary: 'print the account recovery key to write down (device that created the account only)', load: async () => (await client()).recoveryKey },
  { name: 'send', summary: 'send a message; exits once the relay stored it', load: async () => (await client()).send },
  { name: 'listen', summary: 'print each decrypted message as a JSON line {"from","device","text","ts"}', load: async () => (await client()).listen },
  { name: 'safety-number', summary: 'print the 60-digit safety number with HANDLE', load: async () => (await client()).safetyNumber },
  { name: 'devices', summary: "list this account's devices, remove one or name one", load: async () => (await client()).devices },
];

export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const rows = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return ['Usage: sealpost <command> [flags]', '', 'Commands:', ...rows, '', 'Run `sealpost <command> --help` for its flags.'].join('\n');
}

export function commandHelp(command: Command, runner: Runner): string {
  const usage = runner.usage.map((form, i) => `${i === 0 ? 'Usage:' : '      '} ${['sealpost', command.name, form, '[flags]'].filter(Boolean).join(' ')}`);
  const flags: [label: string, help: string, source?: string][] = Object.entries(runner.flags).map(([name, f]) => {
    const source = [f.env && `env ${f.env}`, f.default && `default ${f.default}`].filter(Boolean).join(', ');
    return [`--${name}${f.value ? ` ${f.value}` : ''}`, f.help, source];
  });
  flags.push(['--help', 'show this help']);
  const width = Math.max(...flags.map(([label]) => label.length));
  const rows = flags.flatMap(([label, help, source]) => [`  ${label.padEnd(width)}  ${help}`, ...(source ? [`  ${''.padEnd(width)}  ${source}`] : [])]);
  const title = Object.values(runner.flags).some((f) => f.env) ? 'Flags (a flag wins over its environment variable):' : 'Flags:';
  return [...usage, command.summary, ...(runner.note ? ['', runner.note] : []), '', title, ...rows].join('\n');
}

/** --help before a `--` asks for help; after it, it is an argument (e.g. a message's text). */
function asksHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  const own = end === -1 ? args : args.slice(0, end);
  return own.includes('--help') || own.includes('-h');
}

function reportedFailure(error: unknown): (Error & { exitCode: number }) | undefined {
  return error instanceof Error && typeof (error as { exitCode?: unknown }).exitCode === 'number' ? (error as Error & { exitCode: number }) : undefined;
}

const stdio: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

/** Runs `sealpost <argv>`; resolves to the exit code (never, for `serve`). */
export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  const [first, ...rest] = argv;
  const helpOnly = first === 'help' || first === '--help' || first === '-h';
  const name = helpOnly && first === 'help' ? rest[0] : helpOnly ? undefined : first;
  if (name === undefined) {
    // `sealpost` alone is a usage error; asking for help is not.
    (helpOnly ? io.out : io.err)(overview());
    return helpOnly ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    io.err(`sealpost: unknown command "${name}"\n\n${overview()}`);
    return 2;
  }
  const runner = await command.load();
  if (helpOnly || asksHelp(rest)) {
    io.out(commandHelp(command, runner));
    return 0;
  }
  try {
    return await runner.run(rest, io);
  } catch (error) {
    const failure = reportedFailure(error);
    if (!failure) throw error;
    io.err(`sealpost ${name}: ${failure.message}${failure.exitCode === 2 ? `\n\n${commandHelp(command, runner)}` : ''}`);
    return failure.exitCode;
  }
}

/** True when this file is the process entry point (also through the npm bin symlink). */
function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
