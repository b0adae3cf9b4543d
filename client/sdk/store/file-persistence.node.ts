/**
 * Node-only: the profile's store as one JSON file, rewritten atomically on every batch
 * (write a temporary file, fsync, rename) with mode 0600 in a 0700 directory, because it
 * holds private keys. Suited to the CLI, bots and tests, not to huge histories.
 */
import { mkdir, open, readFile, rename, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { Persistence } from './persistence.js';
import { COLLECTIONS, type CollectionName, type Snapshot, type StoreWrite } from './records.js';

const FILE_NAME = 'store.json';
const FORMAT_VERSION = 1;
let writeCounter = 0;

export class FilePersistence implements Persistence {
  private readonly path: string;
  private snapshot: Record<CollectionName, Record<string, unknown>> = emptySnapshot();

  constructor(private readonly directory: string) {
    this.path = join(directory, FILE_NAME);
  }

  async load(): Promise<Partial<Snapshot>> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
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

  async close(): Promise<void> {}
}

function emptySnapshot(): Record<CollectionName, Record<string, unknown>> {
  return Object.fromEntries(COLLECTIONS.map((name) => [name, {}])) as Record<CollectionName, Record<string, unknown>>;
}
