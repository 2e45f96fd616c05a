import { describe, expect, it } from 'vitest';
import type { Transaction } from '../../domain/transaction.js';
import { transformRaw } from './index.js';

const raw = (payload: Record<string, unknown>, source = 'generic') => ({
  rawId: '665f00000000000000000001',
  tenantId: 'acme',
  source,
  externalId: 'ext-1',
  payload,
  receivedAt: new Date('2026-11-25T10:00:00Z'),
});

describe('generic mapper', () => {
  it('maps the canonical payload, taking the direction from the sign', () => {
    const tx = transformRaw(
      raw({ account: 'acc-1', amount: '-12.34', currency: 'EUR', occurredAt: '2026-11-24T09:30:00+01:00', description: 'coffee' }),
    ) as Transaction;
    expect(tx).toMatchObject({
      tenantId: 'acme',
      accountRef: 'acc-1',
      direction: 'debit',
      amountMinor: 1234n,
      currency: 'EUR',
      description: 'coffee',
      externalId: 'ext-1',
    });
    expect(tx.occurredAt.toISOString()).toBe('2026-11-24T08:30:00.000Z');
  });

  it('accepts minor units and an explicit direction', () => {
    const tx = transformRaw(
      raw({ account: 'a', amountMinor: '1500', currency: 'JPY', direction: 'debit', occurredAt: '2026-11-24T00:00:00Z' }),
    ) as Transaction;
    expect([tx.direction, tx.amountMinor]).toEqual(['debit', 1500n]);
  });

  it('names the field and the reason when a payload is rejected', () => {
    expect(() => transformRaw(raw({ account: 'a', amount: '10.005', currency: 'USD', occurredAt: '2026-11-24T00:00:00Z' }))).toThrow(
      'payload.amount: 10.005 USD has more than 2 decimal places and cannot be represented exactly',
    );
    expect(() => transformRaw(raw({ amount: '1', currency: 'usd', occurredAt: 'yesterday' }))).toThrow(
      /payload\.account: .*payload\.currency: must be an upper-case ISO 4217 code.*payload\.occurredAt/,
    );
    expect(() =>
      transformRaw(raw({ account: 'a', amount: 1, currency: 'USD', occurredAt: '2026-11-24T00:00:00Z', colour: 'red' })),
    ).toThrow(/colour/);
    expect(() =>
      transformRaw(raw({ account: 'a', amount: 1, currency: 'USD', occurredAt: '2026-11-24T00:00:00Z', description: 'a\u0000b' })),
    ).toThrow('payload.description: must not contain NUL characters');
  });

  it('fails a document whose source has no mapper', () => {
    expect(() => transformRaw(raw({}, 'mystery'))).toThrow('no mapper for source "mystery" (known: generic, stripe, plaid, iso20022)');
  });
});
