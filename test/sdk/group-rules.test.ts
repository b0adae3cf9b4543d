/**
 * The group rules every member enforces (client/sdk/group-rules.ts), alone: only newer epochs,
 * only from an admin (or a member leaving), a group first seen only from one of its admins, and
 * group receipts that move a message only once every other member confirmed.
 */
import { describe, expect, it } from 'vitest';
import type { GroupContent } from '../../client/sdk/content.js';
import { groupReceipt, judgeGroupUpdate } from '../../client/sdk/group-rules.js';
import type { GroupRecord, MessageRecord } from '../../client/sdk/store/records.js';

const heads = { from: { version: 1, hash: 'a'.repeat(43) }, to: { version: 1, hash: 'b'.repeat(43) } };
const held: GroupRecord = { groupId: 'group-0001', epoch: 3, name: 'trip', members: ['alice', 'bob', 'dave'], admins: ['alice'], updatedAt: 3 };
const update = (o: Partial<GroupContent>): GroupContent => ({
  v: 2, id: 'content-0001', ts: 4, heads, type: 'group', groupId: 'group-0001', epoch: 4, name: 'trip', members: ['alice', 'bob', 'dave'], admins: ['alice'], ...o,
});

describe('group updates', () => {
  it('are taken only with a newer epoch: a replayed old update or a second one of the same epoch changes nothing', () => {
    expect(judgeGroupUpdate(held, update({ epoch: 2, members: ['alice', 'bob', 'carol'] }), 'alice')).toEqual({ refused: 'stale' });
    expect(judgeGroupUpdate(held, update({ epoch: 3, members: ['alice', 'bob', 'dave', 'carol'] }), 'alice')).toEqual({ refused: 'stale' });
    expect(judgeGroupUpdate(held, update({ epoch: 4, members: ['alice', 'bob', 'dave', 'carol'] }), 'alice')).toMatchObject({ accepted: { epoch: 4 } });
  });

  it('are taken only from an admin, except a member leaving', () => {
    expect(judgeGroupUpdate(held, update({ members: ['alice', 'bob', 'dave', 'mallory'] }), 'bob')).toEqual({ refused: 'not_admin' });
    expect(judgeGroupUpdate(held, update({ members: ['alice', 'bob'] }), 'bob')).toEqual({ refused: 'not_admin' }); // bob removing dave
    expect(judgeGroupUpdate(held, update({ members: ['alice', 'dave'] }), 'bob')).toMatchObject({ accepted: { members: ['alice', 'dave'] } }); // bob leaving
    expect(judgeGroupUpdate(held, update({ members: ['alice', 'dave'], name: 'renamed' }), 'bob')).toEqual({ refused: 'not_admin' });
    // Leaving changes nothing else: a leaving member cannot name admins.
    expect(judgeGroupUpdate(held, update({ members: ['alice', 'dave'], admins: ['alice', 'dave'] }), 'bob')).toEqual({ refused: 'not_admin' });
    // The last admin leaving hands over to the longest-standing remaining member, and to no one else.
    expect(judgeGroupUpdate(held, update({ members: ['bob', 'dave'], admins: ['bob'] }), 'alice')).toMatchObject({ accepted: { admins: ['bob'] } });
    expect(judgeGroupUpdate(held, update({ members: ['bob', 'dave'], admins: ['dave'] }), 'alice')).toMatchObject({ accepted: { admins: ['dave'] } }); // an admin may choose
    expect(judgeGroupUpdate(held, update({ members: ['alice', 'bob', 'carol'] }), 'carol')).toEqual({ refused: 'not_member' });
  });

  it('take a group first seen only from one of its admins, and drop admins who are not members', () => {
    expect(judgeGroupUpdate(undefined, update({ epoch: 1 }), 'bob')).toEqual({ refused: 'not_admin' });
    expect(judgeGroupUpdate(undefined, update({ epoch: 7, admins: ['alice', 'carol'] }), 'alice')).toMatchObject({ accepted: { epoch: 7, admins: ['alice'] } });
  });
});

describe('group receipts', () => {
  const sent: MessageRecord = {
    id: 'message-0001', conversation: { kind: 'group', groupId: 'group-0001' }, from: 'alice', fromDevice: 'd', text: 'hi', ts: 1, storedAt: 1, outgoing: true, state: 'stored',
  };
  it('move a group message only once every other member confirmed', () => {
    const first = groupReceipt(sent, held, 'bob', 'read', 'alice');
    expect(first.event).toBeUndefined();
    const second = groupReceipt(first.message, held, 'dave', 'delivered', 'alice');
    expect(second.event).toBe('delivered');
    const third = groupReceipt(second.message, held, 'dave', 'read', 'alice');
    expect(third.event).toBe('read');
  });
});
