/**
 * Browser: the store in IndexedDB, one object store per collection, one readwrite
 * transaction per batch (all writes or none). Keys never leave the origin's storage.
 */
import type { Persistence } from './persistence.js';
import { COLLECTIONS, type CollectionName, type Snapshot, type StoreWrite } from './records.js';

// 2: adds heldEnvelopes. 4: protocol v2's collections (deviceNames, conversations,
// acceptedBaseKeys, pendingContents, receivedCounts, sendCounts). Bump it with every new collection:
// object stores are created only on an upgrade.
const DB_VERSION = 4;

function promised<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export class IndexedDbPersistence implements Persistence {
  private db: IDBDatabase | undefined;

  /** `name` separates profiles in one browser origin (e.g. tests that run two clients). */
  constructor(private readonly name = 'sealpost') {}

  async load(): Promise<Partial<Snapshot>> {
    const request = indexedDB.open(this.name, DB_VERSION);
    request.onupgradeneeded = () => {
      for (const collection of COLLECTIONS) {
        if (!request.result.objectStoreNames.contains(collection)) request.result.createObjectStore(collection);
      }
    };
    const db = await promised(request);
    this.db = db;
    const transaction = db.transaction([...COLLECTIONS], 'readonly');
    const snapshot: Partial<Record<CollectionName, Record<string, unknown>>> = {};
    await Promise.all(
      COLLECTIONS.map(async (collection) => {
        const store = transaction.objectStore(collection);
        const [keys, values] = await Promise.all([promised(store.getAllKeys()), promised(store.getAll())]);
        const records: Record<string, unknown> = {};
        keys.forEach((key, index) => (records[String(key)] = values[index]));
        snapshot[collection] = records;
      }),
    );
    return snapshot as Partial<Snapshot>;
  }

  write(writes: readonly StoreWrite[]): Promise<void> {
    const db = this.db;
    if (!db) return Promise.reject(new Error('IndexedDbPersistence: load() first'));
    const names = [...new Set(writes.map((write) => write.collection))];
    const transaction = db.transaction(names, 'readwrite');
    for (const write of writes) {
      const store = transaction.objectStore(write.collection);
      if (write.value === null) store.delete(write.key);
      else store.put(write.value, write.key);
    }
    return new Promise((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
    });
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }
}
