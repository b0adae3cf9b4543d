/**
 * The client sub-commands of `sealpost`. Each opens the profile, does one job, closes it and
 * returns the exit code 0; a failure is thrown (main.ts words it: exit 1, or 2 for usage).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { typedLinkCode } from '../../crypto/link.js';
import { SdkError, type MessageEvent, type SealpostClient } from '../sdk/node.js';
import type { CliIo } from './output.js';
import { untilStopped } from './output.js';
import { openProfile } from './profile.js';
import { saveAttachment, sendFile } from './attachments.js';

export interface CommandInput {
  profile: string;
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
  io: CliIo;
}

/** A mistake in the command line: bin/sealpost.ts prints it with the command's help and exits 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** A refused or failed command, in words: bin/sealpost.ts prints it and exits 1. */
export class CommandFailed extends Error {
  readonly exitCode = 1;
}

async function withClient(profile: string, job: (client: SealpostClient) => Promise<number>): Promise<number> {
  const client = await openProfile(profile);
  try {
    return await job(client);
  } finally {
    await client.close();
  }
}

function requireRegistered(client: SealpostClient): void {
  if (!client.account) throw new SdkError('not_registered', 'this profile has no account yet: run `sealpost register` or `sealpost link` first');
}

async function connected(client: SealpostClient, timeoutMs = 15_000): Promise<void> {
  client.connect();
  if (client.connectionState === 'connected') return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new SdkError('network', 'could not connect to the relay')), timeoutMs);
  });
  // A removed device is refused for good: say so at once instead of waiting out the timeout.
  const removed = client.once('state', (s) => s.state === 'offline' && s.reason === 'unknown_device').then(() => {
    throw new SdkError('device_removed', 'the relay no longer knows this device: it was removed from its account');
  });
  try {
    await Promise.race([client.once('state', (s) => s.state === 'connected'), timeout, removed]);
  } finally {
    clearTimeout(timer);
  }
}

export async function register({ profile, flags, io }: CommandInput): Promise<number> {
  const relay = stringFlag(flags, 'relay');
  const handle = stringFlag(flags, 'handle');
  return withClient(profile, async (client) => {
    const account = await client.register(relay, handle);
    io.out(JSON.stringify({ handle: account.handle, deviceId: account.deviceId, profile }));
    return 0;
  });
}

/** How long a newly linked device waits for the account's contacts and groups before it exits. */
const SYNC_WAIT_MS = 20_000;

export async function link({ profile, flags, io }: CommandInput): Promise<number> {
  const accept = flags.accept;
  return withClient(profile, async (client) => {
    if (typeof accept === 'string') {
      requireRegistered(client);
      await connected(client);
      io.err('Waiting for the new device to confirm (up to 10 minutes)…');
      const deviceId = await client.approveLink(accept);
      await client.outboxDrained();
      io.out(JSON.stringify({ linked: deviceId }));
      return 0;
    }
    const pending = client.startLink(stringFlag(flags, 'relay'));
    io.out(pending.code);
    // stdout keeps the compact form for scripts; a person typing it into the app gets the typed form.
    io.err(`To type it by hand (case and dashes do not matter): ${typedLinkCode(pending.code)}`);
    io.err('Enter this code on the device that created the account: sealpost link --accept CODE (waiting up to 10 minutes)');
    const stop = untilStopped(io).then(() => pending.cancel());
    void stop;
    const account = await pending.completed;
    const synced = client.once('synced');
    await connected(client);
    await client.outboxDrained();
    const timedOut = await Promise.race([synced.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), SYNC_WAIT_MS).unref())]);
    if (timedOut) io.err('Linked. Contacts and groups arrive when the device that approved the link is next online (run `sealpost listen`).');
    io.out(JSON.stringify({ handle: account.handle, deviceId: account.deviceId, profile }));
    return 0;
  });
}

/** Takes an account back on this (empty) profile with its recovery key; every other device is dropped. */
export async function recover({ profile, flags, io }: CommandInput): Promise<number> {
  const relay = stringFlag(flags, 'relay');
  const handle = stringFlag(flags, 'handle');
  const file = flags['recovery-key-file'];
  const key = typeof file === 'string' ? (await readFile(file, 'utf8')).trim() : process.env.SEALPOST_RECOVERY_KEY;
  if (!key) throw new UsageError('give the recovery key with --recovery-key-file FILE or in $SEALPOST_RECOVERY_KEY (never on the command line)');
  return withClient(profile, async (client) => {
    const account = await client.recover(relay, handle, key);
    io.err('Recovered. Every other device of this account was removed; your contacts will see a device change.');
    io.out(JSON.stringify({ handle: account.handle, deviceId: account.deviceId, profile }));
    return 0;
  });
}

/** Prints the recovery key (only on the device that holds the account authority). */
export async function recoveryKey({ profile, io }: CommandInput): Promise<number> {
  return withClient(profile, async (client) => {
    requireRegistered(client);
    const key = client.recoveryKey();
    io.err('Write this down and keep it offline. Whoever has it can take over your account.');
    io.out(key);
    return 0;
  });
}

export async function send({ profile, positionals, flags, io }: CommandInput): Promise<number> {
  const [handle, ...words] = positionals;
  const file = flags.file;
  if (!handle || (words.length === 0 && typeof file !== 'string')) throw new UsageError('send needs HANDLE and TEXT, or HANDLE --file PATH');
  return withClient(profile, async (client) => {
    requireRegistered(client);
    if (typeof file === 'string') {
      const id = await sendFile(client, handle, file, words.join(' '), io, () => connected(client));
      io.out(JSON.stringify({ id, state: 'stored' }));
      return 0;
    }
    await connected(client);
    const outgoing = await client.send(handle, words.join(' '));
    await outgoing.stored;
    io.out(JSON.stringify({ id: outgoing.id, state: 'stored' }));
    return 0;
  });
}

/**
 * Prints each decrypted message as one JSON line. The SDK acks an envelope only after its
 * `message` event, which is where the line is printed. Messages that reached this profile
 * while another command was connected (e.g. `send`) are printed first, once. A file is
 * described (name, type, size); with --save-dir it is downloaded there first and its line says
 * where (`saved`), and `listen` exits only once every file it began saving is written.
 */
export async function listen({ profile, flags, io }: CommandInput): Promise<number> {
  const limit = flags.count === undefined ? Infinity : Number(flags.count);
  if (!(limit > 0)) throw new UsageError('--count must be a positive number');
  const saveDir = typeof flags['save-dir'] === 'string' ? flags['save-dir'] : undefined;
  const cursorPath = join(profile, 'listen-cursor.json');
  return withClient(profile, async (client) => {
    requireRegistered(client);
    const printed = new Set<string>(await readCursor(cursorPath));
    let count = 0;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const saving: Array<Promise<void>> = [];
    const print = (m: Pick<MessageEvent, 'id' | 'from' | 'device' | 'text' | 'ts' | 'attachment'>) => {
      if (printed.has(m.id) || count >= limit) return;
      printed.add(m.id);
      count++;
      const line = { from: m.from, device: m.device, text: m.text, ts: m.ts };
      const file = m.attachment;
      if (!file) io.out(JSON.stringify(line));
      else {
        const described = { ...line, file: { name: file.fileName, type: file.contentType, size: file.size } };
        if (saveDir === undefined) io.out(JSON.stringify(described));
        else {
          saving.push(saveAttachment(client, file, saveDir).then(
            (saved) => io.out(JSON.stringify({ ...described, saved })),
            (error: unknown) => io.err(`could not save ${file.fileName} from ${m.from}: ${(error as Error).message}${error instanceof SdkError ? ` [${error.code}]` : ''}`),
          ));
        }
      }
      if (count >= limit) finish();
    };
    for (const m of client.messages()) if (!m.outgoing || m.fromDevice !== client.deviceId) print({ ...m, device: m.fromDevice });
    client.on('message', print);
    client.on('identity_changed', (c) => io.err(`warning: ${c.handle}'s identity key changed; messages from them are refused until accepted`));
    if (count < limit) {
      client.connect();
      await Promise.race([done, untilStopped(io)]);
    }
    await Promise.all(saving);
    await writeFile(cursorPath, JSON.stringify([...printed]), { mode: 0o600 });
    return 0;
  });
}

export async function safetyNumber({ profile, positionals, io }: CommandInput): Promise<number> {
  const [handle] = positionals;
  if (!handle) throw new UsageError('safety-number needs HANDLE');
  return withClient(profile, async (client) => {
    requireRegistered(client);
    const digits = await client.safetyNumber(handle);
    if (client.contact(handle)?.changedIdentityKey) io.err(`${handle}'s identity key changed and is not accepted yet: this is the NEW key's number; compare it with ${handle} before accepting`);
    io.out(digits);
    return 0;
  });
}

export async function devices({ profile, positionals, io }: CommandInput): Promise<number> {
  const [action, deviceId, ...nameWords] = positionals;
  return withClient(profile, async (client) => {
    requireRegistered(client);
    if (action === 'remove') {
      if (!deviceId) throw new UsageError('devices remove needs a device id');
      await client.removeDevice(deviceId);
      io.out(JSON.stringify({ removed: deviceId }));
      return 0;
    }
    if (action === 'name') {
      if (!deviceId || nameWords.length === 0) throw new UsageError('devices name needs DEVICE_ID and NAME');
      await connected(client);
      await client.setDeviceName(deviceId, nameWords.join(' '));
      await client.outboxDrained();
      io.out(JSON.stringify({ deviceId, name: nameWords.join(' ') }));
      return 0;
    }
    if (action !== undefined) throw new UsageError(`unknown devices action "${action}"`);
    for (const device of await client.devices()) io.out(JSON.stringify(device));
    return 0;
  });
}

function stringFlag(flags: CommandInput['flags'], name: string): string {
  const value = flags[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

async function readCursor(path: string): Promise<string[]> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as string[];
  } catch {
    return [];
  }
}
