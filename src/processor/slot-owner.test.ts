import { describe, expect, it } from 'vitest';
import { SLOTS } from '../raw-store/collections.js';
import { SlotOwner } from './slot-owner.js';

const ownersOf = (members: string[]) => {
  const owners = members.map((m) => new SlotOwner(m));
  for (const owner of owners) owner.update(members);
  return owners;
};

describe('SlotOwner', () => {
  it('alone, owns every document; in a group, every slot has exactly one owner and shares are even', () => {
    const [alone] = ownersOf(['p1']);
    expect(alone!.slots()).toBeUndefined();
    expect(alone!.owns(63)).toBe(true);
    const four = ownersOf(['p1', 'p2', 'p3', 'p4']);
    for (let slot = 0; slot < SLOTS; slot++) expect(four.filter((o) => o.owns(slot)).length).toBe(1);
    for (const owner of four) expect(owner.slots()!.length).toBeGreaterThanOrEqual(8); // of 16 on average
    // A document without a slot (an earlier release's) belongs to slot 0's owner.
    expect(four.filter((o) => o.owns(undefined)).map((o) => o.workerId)).toEqual(four.filter((o) => o.owns(0)).map((o) => o.workerId));
  });

  it('a member leaving moves only its own slots; the others keep theirs', () => {
    const before = ownersOf(['p1', 'p2', 'p3']);
    const after = ownersOf(['p1', 'p3']);
    const p2 = new Set(before[1]!.slots());
    const pairs: Array<[SlotOwner, SlotOwner]> = [
      [before[0]!, after[0]!],
      [before[2]!, after[1]!],
    ];
    for (const [b, a] of pairs) {
      const kept = b.slots()!.filter((slot) => a.owns(slot));
      expect(kept).toEqual(b.slots());
      expect(
        a
          .slots()!
          .filter((slot) => !b.owns(slot))
          .every((slot) => p2.has(slot)),
      ).toBe(true);
    }
    expect(after[0]!.update(['p1', 'p3'])).toEqual({ changed: false });
    expect(after[0]!.update(['p1'])).toEqual({ changed: true });
    expect(after[0]!.slots()).toBeUndefined();
  });
});
