/**
 * The rules every member's client enforces on a group, pure so they are tested alone:
 * - an update is taken only with a NEWER epoch than the state held (a replayed old update, or a
 *   second update of the same epoch from another admin, changes nothing);
 * - only an admin of the state held may change the group — except a member removing just
 *   itself (leaving); a group first seen (we were added) is taken from one of its admins;
 * - a group message is `delivered` (`read`) for its sender only once every other member has
 *   confirmed it, not after the first one.
 */
import type { GroupContent } from './content.js';
import type { StateEvent } from './message-state.js';
import type { GroupRecord, MessageRecord } from './store/records.js';

export type GroupVerdict = { accepted: GroupRecord } | { refused: 'stale' | 'not_admin' | 'not_member' };

export function judgeGroupUpdate(current: GroupRecord | undefined, content: GroupContent, sender: string): GroupVerdict {
  const next: GroupRecord = {
    groupId: content.groupId, epoch: content.epoch, name: content.name,
    members: [...new Set(content.members)], admins: [...new Set(content.admins)].filter((a) => content.members.includes(a)), updatedAt: content.ts,
  };
  if (!current) {
    return next.admins.includes(sender) ? { accepted: next } : { refused: 'not_admin' };
  }
  if (content.epoch <= current.epoch) return { refused: 'stale' };
  if (!current.members.includes(sender)) return { refused: 'not_member' };
  const leaving = !next.members.includes(sender) && sameSet(next.members, current.members.filter((m) => m !== sender)) && current.name === next.name;
  if (!current.admins.includes(sender) && !leaving) return { refused: 'not_admin' };
  return { accepted: next };
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * A receipt from `from` for our group message: records who confirmed, and returns the state
 * event once every other member has (delivered, or read, which implies delivered).
 */
export function groupReceipt(message: MessageRecord, group: GroupRecord, from: string, receipt: 'delivered' | 'read', ownHandle: string): { message: MessageRecord; event?: StateEvent } {
  const deliveredBy = [...new Set([...(message.deliveredBy ?? []), from])];
  const readBy = receipt === 'read' ? [...new Set([...(message.readBy ?? []), from])] : message.readBy ?? [];
  const others = group.members.filter((m) => m !== ownHandle);
  const updated = { ...message, deliveredBy, readBy };
  if (others.every((m) => readBy.includes(m))) return { message: updated, event: 'read' };
  if (others.every((m) => deliveredBy.includes(m))) return { message: updated, event: 'delivered' };
  return { message: updated };
}
