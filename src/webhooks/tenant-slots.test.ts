import { describe, expect, it } from 'vitest';
import { TenantSlots, tenantShare } from './tenant-slots.js';

const due = (...tenants: string[]) => tenants.map((tenant_id, i) => ({ id: `we_${i}`, tenant_id }));

describe('a deliverer’s slots shared between tenants', () => {
  it('a tenant alone takes at most half, so the next tenant never waits for its attempts to end', () => {
    const slots = new TenantSlots(4);
    const picked = slots.pick(due('a', 'a', 'a', 'a', 'a', 'a'));
    expect(picked).toHaveLength(2);
    for (const e of picked) slots.hold(e.tenant_id);
    // b arrives while a's two are in flight: b is served, a gets nothing more (its share is now one).
    const next = slots.pick(due('a', 'a', 'a', 'a', 'b'));
    expect(next.map((e) => e.tenant_id)).toEqual(['b']);
  });

  it('tenants are served in turn, the one served longest ago first, whatever the order they come in', () => {
    const slots = new TenantSlots(2);
    for (const tenant of ['a', 'b', 'c']) {
      for (const e of slots.pick(due(tenant))) slots.hold(e.tenant_id);
      slots.release(tenant);
    }
    // Two slots, three tenants waiting: a and b were served longer ago than c.
    expect(slots.pick(due('c', 'c', 'b', 'b', 'a', 'a')).map((e) => e.tenant_id)).toEqual(['a', 'b']);
    for (const e of slots.pick(due('d', 'c'))) slots.hold(e.tenant_id);
    // Never served comes first.
    expect(slots.heldBy('d')).toBe(1);
  });

  it('the share: slots over busy tenants plus one, at least one', () => {
    expect(tenantShare(50, 1)).toBe(25);
    expect(tenantShare(50, 4)).toBe(10);
    expect(tenantShare(50, 100)).toBe(1);
    expect(tenantShare(1, 1)).toBe(1);
  });

  it('with more tenants than slots, each gets one in turn and a free slot goes to whom waited longest', () => {
    const slots = new TenantSlots(2);
    const first = slots.pick(due('a', 'b', 'c'));
    expect(first.map((e) => e.tenant_id)).toEqual(['a', 'b']);
    for (const e of first) slots.hold(e.tenant_id);
    slots.release('a');
    expect(slots.pick(due('a', 'c')).map((e) => e.tenant_id)).toEqual(['c']);
  });

  it("a tenant's posts beyond one per endpoint stay within its share, which shrinks as other tenants get busy", () => {
    const slots = new TenantSlots(8);
    slots.hold('a');
    // Alone: a share of 8 / 2.
    expect(Array.from({ length: 6 }, () => slots.takeExtraPost('a'))).toEqual([true, true, true, true, false, false]);
    slots.hold('b');
    // Two busy: 8 / 3 each. b gets its two; a, holding four, gets none until it is below two.
    expect([slots.takeExtraPost('b'), slots.takeExtraPost('b'), slots.takeExtraPost('b')]).toEqual([true, true, false]);
    slots.giveExtraPost('a');
    expect(slots.takeExtraPost('a')).toBe(false);
    slots.giveExtraPost('a');
    slots.giveExtraPost('a');
    expect(slots.takeExtraPost('a')).toBe(true);
  });
});
