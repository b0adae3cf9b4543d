/**
 * The relay has no notion of a group: a group is its member list, kept by each member's
 * clients, and every change goes out by pairwise fan-out as a `group` content (taken in by
 * apply-content.ts) to the members' devices and our own.
 */
import type { ContentDraft } from './content.js';
import { SdkError } from './errors.js';
import { randomId } from './random.js';
import type { Outgoing } from './outgoing.js';
import type { LocalStore } from './store/local-store.js';
import type { AccountRecord, GroupRecord } from './store/records.js';

/** A group's next state and whom to tell about it. */
export interface GroupChange {
  group: GroupRecord;
  audience: string[];
}

export class Groups {
  constructor(
    private readonly store: LocalStore,
    private readonly account: () => AccountRecord,
  ) {}

  all(): GroupRecord[] {
    return this.store.all('groups');
  }

  /** A group this account is still a member of. */
  require(groupId: string): GroupRecord {
    const group = this.store.get('groups', groupId);
    if (!group) throw new SdkError('unknown_group', `no group ${groupId}`);
    if (!group.members.includes(this.account().handle)) throw new SdkError('not_a_member', 'this account left or was removed from the group');
    return group;
  }

  othersIn(group: GroupRecord): string[] {
    return group.members.filter((m) => m !== this.account().handle);
  }

  created(name: string, members: string[]): GroupChange {
    const me = this.account().handle;
    const group: GroupRecord = { groupId: randomId(), epoch: 1, name, members: [...new Set([me, ...members])], admins: [me], updatedAt: Date.now() };
    return { group, audience: group.members };
  }

  withMembers(groupId: string, handles: string[]): GroupChange {
    const group = this.requireAdmin(groupId);
    const next = { ...group, epoch: group.epoch + 1, members: [...new Set([...group.members, ...handles])], updatedAt: Date.now() };
    return { group: next, audience: next.members };
  }

  /** Told to the old member list, so the removed members learn it. Anyone may remove just themselves (leave). */
  withoutMembers(groupId: string, handles: string[]): GroupChange {
    const me = this.account().handle;
    const group = handles.length === 1 && handles[0] === me ? this.require(groupId) : this.requireAdmin(groupId);
    const members = group.members.filter((m) => !handles.includes(m));
    const kept = group.admins.filter((a) => members.includes(a));
    // A group never loses its last admin: the longest-standing remaining member takes over.
    const admins = kept.length > 0 || members.length === 0 ? kept : members.slice(0, 1);
    const next = { ...group, epoch: group.epoch + 1, members, admins, updatedAt: Date.now() };
    return { group: next, audience: group.members };
  }

  private requireAdmin(groupId: string): GroupRecord {
    const group = this.require(groupId);
    if (!group.admins.includes(this.account().handle)) throw new SdkError('not_an_admin', 'only the group\'s admins can change its members');
    return group;
  }

  /** Members it cannot reach are reported (send_problem), not fatal: the group changes for everyone else. */
  async publish(outgoing: Outgoing, { group, audience }: GroupChange): Promise<GroupRecord> {
    const me = this.account().handle;
    const content: ContentDraft = {
      type: 'group', id: randomId(), ts: group.updatedAt, groupId: group.groupId, epoch: group.epoch, name: group.name, members: group.members, admins: group.admins,
    };
    await outgoing.content(audience.filter((m) => m !== me), content, true, (fanout) => fanout.batch.put('groups', group.groupId, group));
    return group;
  }
}
