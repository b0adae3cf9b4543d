/**
 * Node-only: the profile's store as one JSON file, rewritten atomically on every batch
 * (write a temporary file, fsync, rename) with mode 0600 in a 0700 directory, because it
 * holds private keys. Suited to the CLI, bots and tests, not to huge histories.
 *
 * One writer per profile: `store.lock` (created exclusively, holding the owner's pid and a
 * random token) is taken on load and removed on close. Two instances encrypting from one
 * ratchet state would reuse message keys; a second process — or a second instance in the same
 * process — is refused `profile_locked`. A lock whose process is gone is taken over.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, chmod, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SdkError } from '../errors.js';
import type { Persistence } from './persistence.js';
import { COLLECTIONS, type CollectionName, type Snapshot, type StoreWrite } from './records.js';

const FILE_NAME = 'store.json';
const LOCK_NAME = 'store.lock';
const FORMAT_VERSION = 1;
let writeCounter = 0;

export class FilePersistence implements Persistence {
  private readonly path: string;
  private readonly lockPath: string;
  private lockToken: string | undefined;
  private snapshot: Record<CollectionName, Record<string, unknown>> = emptySnapshot();

  constructor(private readonly directory: string) {
    this.path = join(directory, FILE_NAME);
    this.lockPath = join(directory, LOCK_NAME);
  }

  async load(): Promise<Partial<Snapshot>> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    await this.lock();
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    const parsed = JSON.parse(text) as { version?: number; data?: Partial<Snapshot> };
    if (parsed.version !== FORMAT_VERSION || typeof parsed.data !== 'object') {
      throw new Error(`unsupported profile store format in ${this.path}`);
    }
    this.snapshot = { ...emptySnapshot(), ...(parsed.data as Record<CollectionName, Record<string, unknown>>) };
    return parsed.data;
  }

  async write(writes: readonly StoreWrite[]): Promise<void> {
    const next = { ...this.snapshot };
    for (const write of writes) {
      const records = { ...next[write.collection] };
      if (write.value === null) delete records[write.key];
      else records[write.key] = write.value;
      next[write.collection] = records;
    }
    // Unique per write: two handles on one profile (a second process, a test) never share a temp file.
    const temporary = `${this.path}.${process.pid}.${++writeCounter}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify({ version: FORMAT_VERSION, data: next }));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(temporary, 0o600);
    await rename(temporary, this.path);
    this.snapshot = next;
  }

  async close(): Promise<void> {
    if (this.lockToken === undefined) return;
    const held = await readFile(this.lockPath, 'utf8').catch(() => '');
    if (held.split(' ')[1] === this.lockToken) await unlink(this.lockPath).catch(() => undefined);
    this.lockToken = undefined;
  }

  private async lock(): Promise<void> {
    const token = randomBytes(16).toString('hex');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(this.lockPath, 'wx', 0o600);
        try {
          await handle.writeFile(`${process.pid} ${token}`);
        } finally {
          await handle.close();
        }
        this.lockToken = token;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = Number((await readFile(this.lockPath, 'utf8').catch(() => '')).split(' ')[0]);
      if (Number.isSafeInteger(owner) && owner > 0 && processAlive(owner)) {
        throw new SdkError('profile_locked', `this profile is open in another Sealpost client (process ${owner}); close it first`);
      }
      await unlink(this.lockPath).catch(() => undefined); // its process is gone: a stale lock
    }
    throw new SdkError('profile_locked', 'this profile is being opened by another Sealpost client');
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function emptySnapshot(): Record<CollectionName, Record<string, unknown>> {
  return Object.fromEntries(COLLECTIONS.map((name) => [name, {}])) as Record<CollectionName, Record<string, unknown>>;
}
