/**
 * What the app remembers beyond the SDK's store: read markers (for unread counts), notes about
 * group membership changes (shown in the timeline), conversations started before their
 * first message, and when the user last looked at the recovery key (never the key itself). Kept in localStorage: per origin, so per browser profile, like the SDK store.
 * No message text and no keys are kept here.
 */

export interface TimelineNote {
  id: string;
  /** Conversation key (see conversation-key.ts). */
  conversation: string;
  ts: number;
  text: string;
}

interface MemoryData {
  readUpTo: Record<string, number>;
  started: Record<string, number>;
  notes: TimelineNote[];
  /** When the user last had the recovery key shown (so the app can stop reminding them). */
  recoveryKeySeenAt?: number;
}

const STORAGE_KEY = 'sealpost.app.v1';
const MAX_NOTES = 500;

export class AppMemory {
  private data: MemoryData;

  constructor(private readonly storage: Storage | undefined = globalThis.localStorage) {
    this.data = AppMemory.load(storage);
  }

  private static load(storage: Storage | undefined): MemoryData {
    const empty: MemoryData = { readUpTo: {}, started: {}, notes: [] };
    const text = storage?.getItem(STORAGE_KEY);
    if (!text) return empty;
    try {
      const parsed = JSON.parse(text) as Partial<MemoryData>;
      return { ...empty, ...parsed };
    } catch {
      return empty;
    }
  }

  private save(): void {
    this.storage?.setItem(STORAGE_KEY, JSON.stringify(this.data));
  }

  erase(): void {
    this.storage?.removeItem(STORAGE_KEY);
    this.data = { readUpTo: {}, started: {}, notes: [] };
  }

  readUpTo(key: string): number {
    return this.data.readUpTo[key] ?? 0;
  }

  markReadUpTo(key: string, storedAt: number): void {
    if (storedAt <= this.readUpTo(key)) return;
    this.data.readUpTo[key] = storedAt;
    this.save();
  }

  startedAt(key: string): number | undefined {
    return this.data.started[key];
  }

  startedKeys(): string[] {
    return Object.keys(this.data.started);
  }

  markStarted(key: string, at = Date.now()): void {
    if (this.data.started[key] !== undefined) return;
    this.data.started[key] = at;
    this.save();
  }

  notes(key: string): TimelineNote[] {
    return this.data.notes.filter((note) => note.conversation === key);
  }

  recoveryKeySeenAt(): number | undefined {
    return this.data.recoveryKeySeenAt;
  }

  markRecoveryKeySeen(at = Date.now()): void {
    this.data.recoveryKeySeenAt = at;
    this.save();
  }

  addNote(note: TimelineNote): void {
    if (this.data.notes.some((n) => n.id === note.id)) return;
    this.data.notes = [...this.data.notes, note].slice(-MAX_NOTES);
    this.save();
  }
}
