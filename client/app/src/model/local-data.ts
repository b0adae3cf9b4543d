/**
 * Where this browser keeps Sealpost's data, and erasing it: the SDK's IndexedDB database, the
 * app's memory and the notification preferences. Apart from the model: a profile that cannot
 * be opened must still be erasable.
 */
import { AppMemory } from './app-memory.js';
import { eraseNotificationPrefs } from './notifications.js';

/** The IndexedDB database of the SDK's store. */
export const DATABASE_NAME = 'sealpost';

/**
 * Deletes this browser's Sealpost data (the SDK's database and the app's memory) and starts
 * over. Also used when the profile cannot be opened at all (one made by protocol v1).
 */
export async function eraseLocalData(): Promise<void> {
  new AppMemory().erase();
  eraseNotificationPrefs();
  await new Promise<void>((resolve) => {
    const request = indexedDB.deleteDatabase(DATABASE_NAME);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
  location.reload();
}
