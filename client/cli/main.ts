/**
 * The client side of the `sealpost` command: register, link, send, listen, safety-number,
 * devices. server/cli.ts loads this module only when one of these is invoked, so the relay
 * process never loads client code. `run()` is also called in-process by tests.
 */
import { parseArgs } from 'node:util';
import { SdkError } from '../sdk/node.js';
import * as commands from './commands.js';
import { UsageError, type CommandInput } from './commands.js';
import { processIo, type CliIo } from './output.js';
import { profileDir } from './profile.js';

interface Subcommand {
  usage: string;
  summary: string;
  flags: Record<string, { type: 'string' | 'boolean' }>;
  run: (input: CommandInput) => Promise<number>;
}

const PROFILE_HELP = '  --profile DIR   where this device\'s keys, sessions and messages live\n                  (default: $SEALPOST_PROFILE, else ~/.config/sealpost/default)';

export const SUBCOMMANDS: Record<string, Subcommand> = {
  register: { usage: 'register --relay URL --handle NAME', summary: 'create an account with this device as its first', flags: { relay: { type: 'string' }, handle: { type: 'string' } }, run: commands.register },
  link: { usage: 'link --relay URL | link --accept CODE', summary: 'link this new device (prints a code) / approve a new device by its code (on the device that created the account)', flags: { relay: { type: 'string' }, accept: { type: 'string' } }, run: commands.link },
  recover: { usage: 'recover --relay URL --handle NAME [--recovery-key-file FILE]', summary: 'take an account back on this new device with its recovery key (file or $SEALPOST_RECOVERY_KEY); other devices are removed', flags: { relay: { type: 'string' }, handle: { type: 'string' }, 'recovery-key-file': { type: 'string' } }, run: commands.recover },
  'recovery-key': { usage: 'recovery-key', summary: 'print the account recovery key to write down (device that created the account only)', flags: {}, run: commands.recoveryKey },
  send: { usage: 'send HANDLE TEXT', summary: 'send a message; exits once the relay stored it', flags: {}, run: commands.send },
  listen: { usage: 'listen [--count N]', summary: 'print each decrypted message as a JSON line {"from","device","text","ts"}', flags: { count: { type: 'string' } }, run: commands.listen },
  'safety-number': { usage: 'safety-number HANDLE', summary: 'print the 60-digit safety number with HANDLE', flags: {}, run: commands.safetyNumber },
  devices: { usage: 'devices | devices remove DEVICE_ID | devices name DEVICE_ID NAME', summary: 'list this account\'s devices / remove one / name one (names are shared only with your own devices; put -- before a device id that begins with -)', flags: {}, run: commands.devices },
};

export function helpFor(name: string): string {
  const command = SUBCOMMANDS[name];
  return command ? `Usage: sealpost ${command.usage} [--profile DIR]\n${command.summary}\n\n${PROFILE_HELP}` : '';
}

function mainHelp(): string {
  const rows = Object.entries(SUBCOMMANDS).map(([name, c]) => `  ${name.padEnd(14)} ${c.summary}`);
  return ['Usage: sealpost <command> [flags]', '', 'Client commands:', ...rows].join('\n');
}

export async function run(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : SUBCOMMANDS[name];
  if (!command) {
    (name === undefined || name === '--help' ? io.out : io.err)(mainHelp());
    return name === '--help' ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.flags, profile: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    io.err(`sealpost ${name}: ${(error as Error).message}\n\n${helpFor(name!)}`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(helpFor(name!));
    return 0;
  }
  try {
    return await command.run({ profile: profileDir(parsed.values.profile as string | undefined), positionals: parsed.positionals, flags: parsed.values, io });
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`sealpost ${name}: ${error.message}\n\n${helpFor(name!)}`);
      return 2;
    }
    const code = error instanceof SdkError ? ` [${error.details.relayCode ?? error.code}]` : '';
    io.err(`sealpost ${name}: ${(error as Error).message}${code}`);
    return 1;
  }
}
