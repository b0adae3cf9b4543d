/**
 * The client's commands of `sealpost` (register, link, send, listen, …): for each, its usage,
 * its flags and its runner. bin/sealpost.ts names them in the binary's one command table and
 * imports this module only when one runs, so the relay process never loads client code.
 * commands.ts does the work; this file parses the arguments and puts failures in words.
 */
import { parseArgs } from 'node:util';
import * as commands from './commands.js';
import { CommandFailed, UsageError, type CommandInput } from './commands.js';
import { SdkError } from '../sdk/node.js';
import type { CliIo } from './output.js';
import { profileDir } from './profile.js';

/** One flag of a client command; all take a value. */
interface ClientFlag {
  readonly value: string;
  readonly help: string;
  readonly env?: string;
  readonly default?: string;
}

/** The shape bin/sealpost.ts expects of a command (matched structurally: client/ does not import bin/). */
interface ClientCommand {
  readonly usage: readonly string[];
  readonly note?: string;
  readonly flags: Readonly<Record<string, ClientFlag>>;
  run(args: string[], io: CliIo): Promise<number>;
}

/** Every client command opens a profile. */
const PROFILE: Record<string, ClientFlag> = {
  profile: { value: 'DIR', help: "where this device's keys, sessions and messages live", env: 'SEALPOST_PROFILE', default: '$XDG_CONFIG_HOME or ~/.config, then sealpost/default' },
};
const RELAY: ClientFlag = { value: 'URL', help: "the relay's address, e.g. https://relay.example.org" };
const HANDLE: ClientFlag = { value: 'NAME', help: "the account's handle: 3 to 32 of a-z 0-9 _ . -" };

function command(usage: readonly string[], own: Record<string, ClientFlag>, job: (input: CommandInput) => Promise<number>, note?: string): ClientCommand {
  const flags = { ...own, ...PROFILE };
  const options = Object.fromEntries(Object.keys(flags).map((name) => [name, { type: 'string' as const }]));
  return {
    usage,
    flags,
    ...(note === undefined ? {} : { note }),
    async run(args, io) {
      let parsed;
      try {
        parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      const { profile, ...rest } = parsed.values;
      try {
        return await job({ profile: profileDir(profile), positionals: parsed.positionals, flags: rest, io });
      } catch (error) {
        if (error instanceof UsageError) throw error;
        // Refusals and failures (the relay's, the network's, a file's) end the command with exit 1 and their code.
        const code = error instanceof SdkError ? ` [${error.details.relayCode ?? error.code}]` : '';
        throw new CommandFailed(`${(error as Error).message}${code}`, { cause: error });
      }
    },
  };
}

export const register = command(['--relay URL --handle NAME'], { relay: RELAY, handle: HANDLE }, commands.register);
export const link = command(['--relay URL', '--accept CODE'], { relay: RELAY, accept: { value: 'CODE', help: 'on the device that created the account: approve the new device that shows CODE' } }, commands.link, 'On the new device, `link --relay URL` prints a code and waits; on the device that created the account, `link --accept CODE` approves it.');
export const recover = command(
  ['--relay URL --handle NAME [--recovery-key-file FILE]'],
  { relay: RELAY, handle: HANDLE, 'recovery-key-file': { value: 'FILE', help: 'file holding the recovery key (else $SEALPOST_RECOVERY_KEY; never on the command line)' } },
  commands.recover,
  'Every other device of the account is removed; your contacts see a device change.',
);
export const recoveryKey = command([''], {}, commands.recoveryKey);
export const send = command(
  ['HANDLE TEXT', 'HANDLE --file PATH [CAPTION]'],
  { file: { value: 'PATH', help: 'send this file (up to 100 MiB), encrypted; progress on stderr' } },
  commands.send,
);
export const listen = command(['[--count N] [--save-dir DIR]'], {
  count: { value: 'N', help: 'exit after N messages (default: run until stopped)' },
  'save-dir': { value: 'DIR', help: 'save received files in DIR (new files only: a suffix instead of overwriting) and print where' },
}, commands.listen);
export const safetyNumber = command(['HANDLE'], {}, commands.safetyNumber);
export const devices = command(
  ['', 'remove DEVICE_ID', 'name DEVICE_ID NAME'],
  {},
  commands.devices,
  'Names are shared only with your own devices. Put -- before a device id that begins with -.',
);
