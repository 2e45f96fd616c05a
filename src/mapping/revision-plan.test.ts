// The revision planner alone: which revision wins, what each changed, and what a stale one leaves alone.
import { describe, expect, it } from 'vitest';
import type { Transaction } from '../domain/transaction.js';
import { type CurrentRow, compareKeys, diffFields, planObject, type Revision, type RowFields } from './revision-plan.js';

const fields = (overrides: Partial<RowFields> = {}): RowFields => ({
  accountId: 1n,
  account: 'stripe:balance',
  counterpartyId: null,
  counterparty: null,
  direction: 'credit',
  amountMinor: 100n,
  currency: 'USD',
  status: 'pending',
  description: 'charge',
  category: 'card',
  occurredAt: new Date('2026-11-01T00:00:00Z'),
  bookedAt: null,
  supersedes: null,
  metadata: { captured: false },
  ...overrides,
});

const revision = (rawId: string, key: bigint[], overrides: Partial<RowFields> = {}): Revision => ({
  tx: { rawId, revisionKey: key, tenantId: 'acme', source: 'stripe', providerRef: 'ch_1' } as Transaction,
  fields: fields(overrides),
});

const current = (key: bigint[], overrides: Partial<RowFields> = {}): CurrentRow => ({
  id: 7n,
  rawId: 'raw-0',
  revisionKey: key,
  ...fields(overrides),
});

describe('compareKeys', () => {
  it('compares element by element, a longer key after its own prefix', () => {
    expect(compareKeys([1n, 5n], [1n, 7n])).toBeLessThan(0);
    expect(compareKeys([2n, 0n], [1n, 9n])).toBeGreaterThan(0);
    expect(compareKeys([1n, 5n], [1n, 5n])).toBe(0);
    expect(compareKeys([1n], [1n, 0n])).toBeLessThan(0);
  });
});

describe('planObject', () => {
  it('a new object is created by its lowest revision and ends in its highest, whatever the batch order', () => {
    const plan = planObject(
      'k',
      undefined,
      [revision('raw-b', [2n], { status: 'reversed' }), revision('raw-a', [1n], { status: 'posted' })],
      false,
    );
    expect(plan.insert).toMatchObject({
      creator: { rawId: 'raw-a' },
      latest: { fields: { status: 'reversed' }, tx: { revisionKey: [2n] } },
    });
    expect(plan.update).toBeNull();
    expect(plan.revisions.map((r) => [r.tx.rawId, r.outcome])).toEqual([
      ['raw-a', 'created'],
      ['raw-b', 'updated'],
    ]);
    expect(plan.revisions[1]!.changes).toEqual({ status: { from: 'posted', to: 'reversed' } });
  });

  it('a revision older than the row is kept as stale and changes nothing', () => {
    const plan = planObject('k', current([2n], { status: 'posted' }), [revision('raw-old', [1n], { status: 'pending' })], false);
    expect(plan.update).toBeNull();
    expect(plan.revisions.map((r) => r.outcome)).toEqual(['stale']);
  });

  it('an equal or newer revision with the same fields is unchanged, and still moves the key', () => {
    const plan = planObject('k', current([1n]), [revision('raw-same', [1n, 5n])], false);
    expect(plan.revisions.map((r) => r.outcome)).toEqual(['unchanged']);
    expect(plan.update).toMatchObject({ id: 7n, revisionKey: [1n, 5n] });
  });

  it('nothing moves a void row', () => {
    const plan = planObject('k', current([0n], { status: 'void' }), [revision('raw-late', [9n], { status: 'posted' })], false);
    expect(plan.revisions.map((r) => r.outcome)).toEqual(['after-void']);
    expect(plan.update).toBeNull();
  });

  it('revisions of an object a posted successor replaced are kept as superseded', () => {
    const plan = planObject('k', undefined, [revision('raw-pending', [1n])], true);
    expect(plan.insert).toBeNull();
    expect(plan.revisions.map((r) => r.outcome)).toEqual(['superseded']);
  });
});

describe('diffFields', () => {
  it('names each field and each metadata key that changed, dates and amounts as text', () => {
    const before = fields({ metadata: { captured: false, fee: '3' } });
    const after = fields({
      amountMinor: 90n,
      bookedAt: new Date('2026-11-02T00:00:00Z'),
      metadata: { captured: true, fee: '3', refund: '10' },
    });
    expect(diffFields(before, after)).toEqual({
      amountMinor: { from: '100', to: '90' },
      bookedAt: { from: null, to: '2026-11-02T00:00:00.000Z' },
      'metadata.captured': { from: false, to: true },
      'metadata.refund': { from: null, to: '10' },
    });
  });
});
