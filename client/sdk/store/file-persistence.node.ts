/**
 * Node-only: the profile's store as a JSON snapshot (`store.json`) plus an append-only journal
 * (`store.journal`, one JSON line per batch, fdatasync'd before the batch counts), both mode
 * 0600 in a 0700 directory, because they hold private keys. Loading replays the journal over the
 * snapshot and cuts a torn last line (a crash mid-append); when the journal outgrows the snapshot
 * it is folded into a new snapshot (temporary file, fsync, rename) and emptied. An append costs
 * one small write and one flush instead of rewriting the whole profile, so a burst of sends does
 * not rewrite a growing history every time. Suited to the CLI, bots and tests.
 *
 * One writer per profile: `store.lock` (created exclusively, holding the owner's pid and a
 * random token) is taken on load and removed on close. Two instances encrypting from one
 * ratchet state would reuse message keys; a second process — or a second instance in the same
 * process — is refused `profile_locked`. A lock whose process is gone is taken over.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, chmod, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SdkError } from '../errors.js';
import type { Persistence } from './persistence.js';
import { COLLECTIONS, type CollectionName, type Snapshot, type StoreWrite } from './records.js';

const FILE_NAME = 'store.json';
const LOCK_NAME = 'store.lock';
const JOURNAL_NAME = 'store.journal';
/** The journal is folded into the snapshot once it is larger than this and than the snapshot. */
const MIN_COMPACT_BYTES = 1024 * 1024;
const FORMAT_VERSION = 1;
let writeCounter = 0;

export class FilePersistence implements Persistence {
  private readonly path: string;
  private readonly journalPath: string;
  private readonly lockPath: string;
  private lockToken: string | undefined;
  private journal: FileHandle | undefined;
  private journalBytes = 0;
  private snapshotBytes = 0;
  private snapshot: Record<CollectionName, Record<string, unknown>> = emptySnapshot();

  constructor(private readonly directory: string) {
    this.path = join(directory, FILE_NAME);
    this.journalPath = join(directory, JOURNAL_NAME);
    this.lockPath = join(directory, LOCK_NAME);
  }

  async load(): Promise<Partial<Snapshot>> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    await this.lock();
    const text = await readIfExists(this.path);
    if (text !== undefined) {
      const parsed = JSON.parse(text) as { version?: number; data?: Partial<Snapshot> };
      if (parsed.version !== FORMAT_VERSION || typeof parsed.data !== 'object') {
        throw new Error(`unsupported profile store format in ${this.path}`);
      }
      this.snapshot = { ...emptySnapshot(), ...(parsed.data as Record<CollectionName, Record<string, unknown>>) };
      this.snapshotBytes = text.length;
    }
    await this.replayJournal();
    return this.snapshot as Partial<Snapshot>;
  }

  async write(writes: readonly StoreWrite[]): Promise<void> {
    const line = Buffer.from(`${JSON.stringify(writes)}\n`);
    const journal = await this.openJournal();
    try {
      await journal.write(line, 0, line.length, this.journalBytes);
      await journal.datasync();
    } catch (error) {
      // Leave no partial line behind: the next append must start on a clean line.
      await journal.truncate(this.journalBytes).catch(() => undefined);
      throw error;
    }
    this.journalBytes += line.length;
    applyWrites(this.snapshot, writes);
    if (this.journalBytes > Math.max(MIN_COMPACT_BYTES, this.snapshotBytes)) await this.compact();
  }

  /** Replays complete journal lines over the snapshot; a torn or unreadable tail is cut off. */
  private async replayJournal(): Promise<void> {
    const text = await readIfExists(this.journalPath);
    if (text === undefined) return;
    const total = Buffer.byteLength(text);
    let offset = 0;
    for (const line of text.split('\n')) {
      const end = offset + Buffer.byteLength(line) + 1;
      if (end > total) break; // no newline: a torn append
      let writes: StoreWrite[];
      try {
        writes = JSON.parse(line) as StoreWrite[];
      } catch {
        break;
      }
      applyWrites(this.snapshot, writes);
      offset = end;
    }
    this.journalBytes = offset;
    const journal = await this.openJournal();
    await journal.truncate(offset);
  }

  /** Folds the journal into a new snapshot, then empties the journal (a crash between the two replays it harmlessly). */
  private async compact(): Promise<void> {
    const text = JSON.stringify({ version: FORMAT_VERSION, data: this.snapshot });
    // Unique per write: two handles on one profile (a test) never share a temp file.
    const temporary = `${this.path}.${process.pid}.${++writeCounter}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await chmod(temporary, 0o600);
    await rename(temporary, this.path);
    const journal = await this.openJournal();
    await journal.truncate(0);
    await journal.datasync();
    this.journalBytes = 0;
    this.snapshotBytes = text.length;
  }

  private async openJournal(): Promise<FileHandle> {
    this.journal ??= await open(this.journalPath, 'a+', 0o600);
    return this.journal;
  }

  async close(): Promise<void> {
    await this.journal?.close();
    this.journal = undefined;
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

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function applyWrites(snapshot: Record<CollectionName, Record<string, unknown>>, writes: readonly StoreWrite[]): void {
  for (const write of writes) {
    const records = (snapshot[write.collection] ??= {});
    if (write.value === null) delete records[write.key];
    else records[write.key] = write.value;
  }
}

function emptySnapshot(): Record<CollectionName, Record<string, unknown>> {
  return Object.fromEntries(COLLECTIONS.map((name) => [name, {}])) as Record<CollectionName, Record<string, unknown>>;
}
