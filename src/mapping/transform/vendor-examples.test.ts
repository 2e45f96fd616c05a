// The vendors' own published example objects (vendor/*.json, extracted by scripts/vendor-vectors.ts from
// stripe/openapi and plaid/plaid-openapi at pinned commits) and the variants their specs allow, through
// transformRaw: what a real client sends must map to exactly the money the vendor documents.
import currencyCodes from 'currency-codes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Mapped, Removal, Transaction } from '../../domain/transaction.js';
import { transformRaw } from './index.js';
import plaid from './vendor/plaid.json' with { type: 'json' };
import stripe from './vendor/stripe.json' with { type: 'json' };

const run = (source: string, payload: unknown): Mapped =>
  transformRaw({
    rawId: '6b0680b3075f51a30f180db7',
    tenantId: 'acme',
    source,
    externalId: null,
    payload: payload as Record<string, unknown>,
    receivedAt: new Date(),
  });
const record = (source: string, payload: unknown) => run(source, payload) as Transaction;

const charge = (overrides: Record<string, unknown> = {}) => ({ ...stripe.charge, ...overrides });
const balance = (overrides: Record<string, unknown> = {}) => ({ ...stripe.balance_transaction, ...overrides });

describe('Stripe, against its fixtures3.json', () => {
  it('the published charge is an uncaptured authorisation: pending, not booked, for the amount authorised', () => {
    expect(stripe.charge).toMatchObject({ captured: false, amount: 100, amount_captured: 0 });
    const tx = record('stripe', stripe.charge);
    expect(tx).toMatchObject({ status: 'pending', bookedAt: null, amountMinor: 100n, currency: 'USD', direction: 'credit' });
    expect(tx.metadata).toMatchObject({
      captured: false,
      amountAuthorizedMinor: '100',
      balanceTransaction: 'txn_1PgaxNB7WZ01zgkWEV3TLf40',
    });
  });

  it('a captured charge records amount_captured, and a partial capture the part captured', () => {
    expect(record('stripe', charge({ captured: true, amount_captured: 100 }))).toMatchObject({ status: 'posted', amountMinor: 100n });
    const partial = record('stripe', charge({ captured: true, amount: 1000, amount_captured: 600 }));
    expect(partial).toMatchObject({ status: 'posted', amountMinor: 600n, metadata: { amountAuthorizedMinor: '1000' } });
    expect(() => run('stripe', charge({ captured: true, amount: 1000, amount_captured: 1200 }))).toThrow(
      'payload.amount_captured: 1200 is outside',
    );
  });

  it('a released authorisation (uncaptured, refunded) is reversed and never booked', () => {
    expect(record('stripe', charge({ refunded: true, amount_refunded: 100 }))).toMatchObject({ status: 'reversed', bookedAt: null });
  });

  it('accepts expanded objects and nulls wherever the spec allows them, keeping the ids', () => {
    const expanded = record(
      'stripe',
      charge({
        captured: true,
        amount_captured: 100,
        balance_transaction: { ...stripe.balance_transaction },
        customer: { id: 'cus_Q1', object: 'customer', email: null },
        payment_method_details: null,
        billing_details: null,
      }),
    );
    expect(expanded).toMatchObject({
      counterparty: null,
      category: 'charge',
      metadata: { balanceTransaction: 'txn_1PgaxNB7WZ01zgkWEV3TLf40', customer: 'cus_Q1' },
    });
    const bt = record('stripe', balance({ source: { ...stripe.charge } }));
    expect(bt.metadata.source).toBe('ch_1PgafuB7WZ01zgkWXYmPNZs8');
    expect(record('stripe', balance({ source: null, description: null })).metadata.source).toBeNull();
  });

  it('the published balance transaction maps to its amount, fee and net', () => {
    expect(record('stripe', stripe.balance_transaction)).toMatchObject({
      status: 'posted',
      amountMinor: 100n,
      currency: 'USD',
      direction: 'credit',
      metadata: { feeMinor: '0', netMinor: '100', source: 'ch_1PgafuB7WZ01zgkWXYmPNZs8' },
    });
  });

  // docs.stripe.com/currencies: what each Stripe integer means, and the ISO 4217 minor units we store.
  const documented: Array<[currency: string, stripeAmount: number, isoMinor: bigint, rule: string]> = [
    ['isk', 50_000, 500n, 'special case: two-decimal in the API (100 = 1 króna); ISO exponent 0'],
    ['mga', 20_000, 2_000_000n, 'zero-decimal in the API; ISO exponent 2'],
    ['huf', 150_000, 150_000n, 'special case: two-decimal for charges (payouts whole forints); ISO exponent 2'],
    ['twd', 30_000, 30_000n, 'special case: two-decimal for charges (payouts whole dollars); ISO exponent 2'],
    ['jpy', 500, 500n, 'zero-decimal; ISO exponent 0'],
    ['ugx', 5_000, 5_000n, 'zero-decimal; ISO exponent 0'],
    ['kwd', 5_120, 5_120n, 'three-decimal; ISO exponent 3'],
    ['usd', 1_000, 1_000n, 'two-decimal; ISO exponent 2'],
  ];
  it.each(documented)('%s: a Stripe amount of %i is %i ISO minor units (%s)', (currency, amount, isoMinor) => {
    expect(record('stripe', charge({ currency, amount, amount_captured: amount, captured: true })).amountMinor).toBe(isoMinor);
    expect(record('stripe', balance({ currency, amount: -amount, fee: amount, net: -2 * amount }))).toMatchObject({
      direction: 'debit',
      amountMinor: isoMinor,
      metadata: { feeMinor: isoMinor.toString(), netMinor: (-2n * isoMinor).toString() },
    });
  });

  it('refuses fractional króna, which ISO 4217 cannot hold, instead of rounding', () => {
    expect(() => run('stripe', balance({ currency: 'isk', amount: 50_050 }))).toThrow(
      "payload.amount: 50050 is ISK in Stripe's 2-decimal units, which is not a whole number of ISO 4217 units (exponent 0)",
    );
  });

  it('reports an unknown or non-money currency at payload.currency', () => {
    expect(() => run('stripe', balance({ currency: 'xyz' }))).toThrow('payload.currency: "XYZ" is not an ISO 4217 currency code');
    expect(() => run('stripe', balance({ currency: 'xxx' }))).toThrow('payload.currency: "XXX" is ISO 4217\'s "no currency" code');
  });

  // The oracle, restated from the documentation rather than imported from the mapper's table.
  const stripeDigits = (code: string) =>
    'BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF'.split(' ').includes(code)
      ? 0
      : 'BHD JOD KWD OMR TND'.split(' ').includes(code)
        ? 3
        : 2;
  const codes = currencyCodes.codes().filter((code) => !['XXX', 'XTS'].includes(code));

  it('for every ISO 4217 currency, the minor units stored equal the amount under Stripe’s documented unit rule', () => {
    fc.assert(
      fc.property(fc.constantFrom(...codes), fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), (code, amount) => {
        const iso = currencyCodes.code(code)!.digits;
        const digits = stripeDigits(code);
        // Same value: amount / 10^digits == minor / 10^iso, so minor * 10^digits == amount * 10^iso.
        const scaled = BigInt(amount) * 10n ** BigInt(iso);
        const exact = scaled % 10n ** BigInt(digits) === 0n;
        let mapped: Transaction | undefined;
        try {
          mapped = record('stripe', balance({ currency: code.toLowerCase(), amount }));
        } catch (error) {
          expect(exact, `${amount} ${code} was refused: ${String(error)}`).toBe(false);
          return;
        }
        expect(exact).toBe(true);
        const signed = mapped.direction === 'debit' ? -mapped.amountMinor : mapped.amountMinor;
        expect(signed * 10n ** BigInt(digits)).toBe(scaled);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('Plaid, against the 2020-09-14 examples', () => {
  const all = [...plaid.transactionsGet, ...plaid.syncAdded, ...plaid.syncModified];

  it.each(all.map((t) => [t.transaction_id, t.amount, t.pending, t] as const))(
    '%s (%d, pending %s) maps exactly',
    (id, amount, pending, payload) => {
      const tx = record('plaid', payload);
      expect(tx).toMatchObject({
        providerRef: id,
        direction: amount > 0 ? 'debit' : 'credit',
        amountMinor: BigInt(Math.round(Math.abs(amount) * 100)),
        status: pending ? 'pending' : 'posted',
        supersedes: pending ? null : payload.pending_transaction_id,
      });
      // occurredAt is the authorisation time; bookedAt the posting time, and only once posted.
      expect(tx.occurredAt.toISOString()).toBe(new Date(payload.authorized_datetime!).toISOString());
      expect(tx.bookedAt?.toISOString() ?? null).toBe(pending ? null : new Date(payload.datetime!).toISOString());
    },
  );

  it('takes the authorisation date before the posting time when authorized_datetime is null', () => {
    const posted = plaid.syncAdded[0]!;
    const tx = record('plaid', { ...posted, authorized_datetime: null });
    expect(tx.occurredAt.toISOString()).toBe('2023-09-22T00:00:00.000Z');
    expect(tx.bookedAt?.toISOString()).toBe('2023-09-24T11:01:01.000Z');
    expect(record('plaid', { ...posted, authorized_datetime: null, authorized_date: null }).occurredAt.toISOString()).toBe(
      '2023-09-24T11:01:01.000Z',
    );
    const dateOnly = record('plaid', { ...posted, authorized_datetime: null, authorized_date: null, datetime: null });
    expect([dateOnly.occurredAt.toISOString(), dateOnly.bookedAt?.toISOString()]).toEqual([
      '2023-09-24T00:00:00.000Z',
      '2023-09-24T00:00:00.000Z',
    ]);
  });

  it('maps a /transactions/sync removed entry to the removal of the transaction it names', () => {
    const entry = plaid.syncRemoved[0]!;
    expect(run('plaid', { removed: entry })).toEqual({
      kind: 'removal',
      rawId: '6b0680b3075f51a30f180db7',
      tenantId: 'acme',
      source: 'plaid',
      providerRef: entry.transaction_id,
    } satisfies Removal);
    expect(() => run('plaid', { removed: { account_id: entry.account_id } })).toThrow('payload.removed.transaction_id');
  });

  it('keeps refusing unofficial currencies, which have no ISO 4217 exponent', () => {
    expect(() => run('plaid', { ...plaid.syncAdded[0], iso_currency_code: null, unofficial_currency_code: 'BTC' })).toThrow(
      'unofficial currency "BTC"',
    );
  });
});
