/**
 * Ids for what exists only in this browser (unsent messages, notes in a conversation): unique
 * enough among one profile's items, never sent anywhere, so no cryptographic randomness is needed.
 */
export function localId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
