#!/usr/bin/env node
/**
 * The `sealpost` binary. `commands` below is the single dispatch point: client sub-commands
 * (register, send, listen, …, implemented in client/cli/) are added there as one entry each.
 * Unknown commands print help and exit 2.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, serveHelp } from './config.js';
import { listen } from './listen.js';

export interface Command {
  summary: string;
  help: () => string;
  /** Resolves to the process exit code (or never, for long-running commands). */
  run: (args: string[]) => Promise<number>;
}

async function serve(args: string[]): Promise<number> {
  const config = loadConfig(args, process.env);
  const app = await buildApp(config);
  const url = await listen(app, config);
  app.log.info({ event: 'listening', url, db: config.db, tls: Boolean(config.tlsCert) }, `sealpost relay listening on ${url}`);
  installShutdown(app);
  return new Promise<number>(() => undefined); // runs until a signal
}

function installShutdown(app: FastifyInstance): void {
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    app.log.info({ event: 'shutdown', signal }, 'shutting down');
    // app.close(): stop accepting, flush the pending group commit, close sockets, close the db.
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

export const commands: Record<string, Command> = {
  serve: { summary: 'run the relay', help: serveHelp, run: serve },
};

// Client sub-commands (client/cli/main.ts), imported only when invoked: the relay never loads client code.
const CLIENT_COMMANDS: Record<string, [usage: string, summary: string]> = {
  register: ['register --relay URL --handle NAME', 'create an account with this device as its first'],
  link: ['link --relay URL | link --accept CODE', 'link this new device / approve a new device by its code (on the device that created the account)'],
  recover: ['recover --relay URL --handle NAME [--recovery-key-file FILE]', 'take an account back on this new device with its recovery key; other devices are removed'],
  'recovery-key': ['recovery-key', 'print the account recovery key to write down (device that created the account only)'],
  send: ['send HANDLE TEXT', 'send a message; exits once the relay stored it'],
  listen: ['listen [--count N]', 'print each decrypted message as a JSON line'],
  'safety-number': ['safety-number HANDLE', 'print the 60-digit safety number with HANDLE'],
  devices: ['devices | devices remove DEVICE_ID | devices name DEVICE_ID NAME', "list this account's devices / remove one / name one"],
};
for (const [name, [usage, summary]] of Object.entries(CLIENT_COMMANDS)) {
  commands[name] = {
    summary,
    help: () => `Usage: sealpost ${usage} [--profile DIR]\n${summary}\n\n  --profile DIR   this device's keys, sessions and messages (default: $SEALPOST_PROFILE, else ~/.config/sealpost/default)`,
    run: async (args) => ((await import('../client/cli/main.js')) as { run(argv: string[]): Promise<number> }).run([name, ...args]),
  };
}

function mainHelp(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return ['Usage: sealpost <command> [flags]', '', 'Commands:', ...rows, '', 'Run `sealpost <command> --help` for a command\'s flags.'].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(mainHelp());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`sealpost: unknown command "${name}"\n`);
    console.error(mainHelp());
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.help());
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`sealpost ${name}: ${error.message}\n\n${command.help()}`);
      return 2;
    }
    throw error;
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
