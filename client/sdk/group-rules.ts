/**
 * The rules every member's client enforces on a group, pure so they are tested alone:
 * - an update is taken only with a NEWER epoch than the state held (a replayed old update, or a
 *   second update of the same epoch from another admin, changes nothing);
 * - only an admin of the state held may change the group — except a member removing just
 *   itself (leaving), which changes nothing else (the admins follow adminsAfterLeaving); a
 *   group first seen (we were added) is taken from one of its admins;
 * - a group message is `delivered` (`read`) for its sender only once every other member has
 *   confirmed it, not after the first one.
 */
import type { GroupContent } from './content.js';
import type { StateEvent } from './message-state.js';
import type { GroupRecord, MessageRecord } from './store/records.js';

export type GroupVerdict = { accepted: GroupRecord } | { refused: 'stale' | 'not_admin' | 'not_member' };

/** Members without duplicates; admins that are members. */
export function normalizeGroup(g: Omit<GroupRecord, 'updatedAt'> & { updatedAt: number }): GroupRecord {
  const members = [...new Set(g.members)];
  return { groupId: g.groupId, epoch: g.epoch, name: g.name, members, admins: [...new Set(g.admins)].filter((a) => members.includes(a)), updatedAt: g.updatedAt };
}

export function judgeGroupUpdate(current: GroupRecord | undefined, content: GroupContent, sender: string): GroupVerdict {
  const next = normalizeGroup({ ...content, updatedAt: content.ts });
  if (!current) {
    return next.admins.includes(sender) ? { accepted: next } : { refused: 'not_admin' };
  }
  if (content.epoch <= current.epoch) return { refused: 'stale' };
  if (!current.members.includes(sender)) return { refused: 'not_member' };
  const leaving = !next.members.includes(sender) && sameSet(next.members, current.members.filter((m) => m !== sender))
    && current.name === next.name && sameSet(next.admins, adminsAfterLeaving(current, sender));
  if (!current.admins.includes(sender) && !leaving) return { refused: 'not_admin' };
  return { accepted: next };
}

/** The admins a group has after `member` leaves: the others, or (if it was the last) the longest-standing remaining member. */
export function adminsAfterLeaving(group: GroupRecord, member: string): string[] {
  const members = group.members.filter((m) => m !== member);
  const admins = group.admins.filter((a) => a !== member && members.includes(a));
  return admins.length > 0 || members.length === 0 ? admins : members.slice(0, 1);
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
