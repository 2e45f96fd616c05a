// Providers send the same object again as it changes: each sequence, through the real mappers and writer
// against a real PostgreSQL, must end in one row per provider object, in its latest state, with its history.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Mapped } from '../../src/domain/transaction.js';
import { getTransaction } from '../../src/gateway/transactions-query.js';
import { transformRaw } from '../../src/mapping/transform/index.js';
import plaid from '../../src/mapping/transform/vendor/plaid.json' with { type: 'json' };
import stripe from '../../src/mapping/transform/vendor/stripe.json' with { type: 'json' };
import { writeTransactions } from '../../src/processor/transactions-writer.js';
import { createTestPostgres, type TestPostgres } from '../support/databases.js';

let pg: TestPostgres;
beforeAll(async () => {
  pg = await createTestPostgres();
});
afterAll(() => pg.drop());
beforeEach(() =>
  pg.db.none('TRUNCATE transactions, transaction_aliases, transaction_revisions, accounts, counterparties, transaction_removals'),
);

let sequence = 0;
/** A raw document as the processor reads it; each one received a second after the one before. */
function doc(source: string, payload: object, externalId: string | null = null): Mapped {
  sequence += 1;
  return transformRaw({
    rawId: `raw-${String(sequence).padStart(6, '0')}`,
    tenantId: 'acme',
    source,
    externalId,
    payload: payload as Record<string, unknown>,
    receivedAt: new Date(Date.UTC(2026, 10, 29, 12, 0, sequence)),
  });
}

const rows = () =>
  pg.db.any(
    `SELECT t.raw_id, t.provider_ref, t.status, t.amount_minor, t.currency, t.direction, t.booked_at, t.metadata
       FROM transactions t ORDER BY t.id`,
  );

// The charge Stripe publishes (fixtures3.json) is an uncaptured authorisation of 1.00 USD; its later states
// are the same object with the fields Stripe's API reference says change on capture and on refund.
const authorised = stripe.charge;
const captured = { ...authorised, captured: true, amount_captured: 100 };
const partlyRefunded = { ...captured, amount_refunded: 30 };
const refunded = { ...captured, amount_refunded: 100, refunded: true };
const event = (id: string, type: string, created: number, object: object) => ({
  id,
  object: 'event',
  api_version: '2024-06-20',
  created,
  type,
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  data: { object },
});
const chargeId = authorised.id;

describe('Stripe: a charge authorised, captured, refunded', () => {
  const expectRefundedRow = async (rawIds: string[]) => {
    expect(await rows()).toEqual([
      expect.objectContaining({ provider_ref: chargeId, status: 'reversed', amount_minor: 100n, currency: 'USD', direction: 'credit' }),
    ]);
    // Every raw document of the object answers with the one row.
    for (const rawId of rawIds) expect(await getTransaction(pg.db, 'acme', rawId)).toMatchObject({ status: 'reversed' });
  };

  it.each([
    ['unset', () => null],
    ['the object id', () => chargeId],
    ['each event id', (i: number) => `evt_${i}`],
  ])('in order, externalId %s: one row, reversed, with its three revisions', async (_label, externalIdOf) => {
    const docs = [authorised, captured, refunded].map((payload, i) => doc('stripe', payload, externalIdOf(i)));
    for (const mapped of docs) await writeTransactions(pg.db, [mapped]);
    await expectRefundedRow(docs.map((d) => d.rawId));
    const detail = await getTransaction(pg.db, 'acme', docs[0]!.rawId);
    expect(detail?.revisions.map((r) => r.outcome)).toEqual(['created', 'updated', 'updated']);
    expect(detail?.revisions[1]?.changes).toMatchObject({
      status: { from: 'pending', to: 'posted' },
      bookedAt: { from: null, to: '2009-02-13T23:31:30.000Z' },
      'metadata.captured': { from: false, to: true },
    });
    expect(detail?.revisions[2]?.changes).toMatchObject({
      status: { from: 'posted', to: 'reversed' },
      'metadata.amountRefundedMinor': { from: '0', to: '100' },
    });
  });

  it('in reverse order: the refunded snapshot stands, the older ones are kept as stale', async () => {
    const docs = [refunded, captured, authorised].map((payload) => doc('stripe', payload));
    for (const mapped of docs) await writeTransactions(pg.db, [mapped]);
    await expectRefundedRow(docs.map((d) => d.rawId));
    const detail = await getTransaction(pg.db, 'acme', docs[2]!.rawId);
    expect(detail?.revisions.map((r) => [r.rawId, r.outcome])).toEqual([
      [docs[0]!.rawId, 'created'],
      [docs[1]!.rawId, 'stale'],
      [docs[2]!.rawId, 'stale'],
    ]);
  });

  it('all three in one batch, in any order, end the same; replaying them changes nothing', async () => {
    const docs = [captured, refunded, authorised].map((payload) => doc('stripe', payload));
    await writeTransactions(pg.db, docs);
    await expectRefundedRow(docs.map((d) => d.rawId));
    const before = await getTransaction(pg.db, 'acme', docs[0]!.rawId);
    // Applied in lifecycle order: authorised created it, captured and refunded updated it.
    expect(before?.revisions.map((r) => r.outcome)).toEqual(['created', 'updated', 'updated']);
    expect(await writeTransactions(pg.db, docs)).toEqual({ inserted: 0 });
    expect(await getTransaction(pg.db, 'acme', docs[0]!.rawId)).toEqual(before);
  });

  it('a partial refund shows on the charge row, which stays posted', async () => {
    for (const payload of [captured, partlyRefunded]) await writeTransactions(pg.db, [doc('stripe', payload)]);
    expect(await rows()).toEqual([
      expect.objectContaining({ status: 'posted', amount_minor: 100n, metadata: expect.objectContaining({ amountRefundedMinor: '30' }) }),
    ]);
  });

  it('Event envelopes order by created, whatever order they arrive in', async () => {
    const events = [
      event('evt_1', 'charge.succeeded', 1_700_000_000, authorised),
      event('evt_2', 'charge.captured', 1_700_000_100, captured),
      event('evt_3', 'charge.updated', 1_700_000_200, { ...captured, description: 'Order 1234, paid' }),
      event('evt_4', 'charge.refunded', 1_700_000_300, partlyRefunded),
    ];
    const reversed = [events[3]!, events[1]!, events[2]!, events[0]!].map((e) => doc('stripe', e, e.id));
    for (const mapped of reversed) await writeTransactions(pg.db, [mapped]);
    const [row] = await rows();
    expect(row).toMatchObject({ status: 'posted', amount_minor: 100n });
    expect(row.metadata).toMatchObject({ eventId: 'evt_4', eventType: 'charge.refunded', amountRefundedMinor: '30' });
    // charge.updated, an earlier event, did not overwrite the refund's snapshot.
    expect((await getTransaction(pg.db, 'acme', reversed[2]!.rawId))?.revisions.map((r) => r.outcome)).toEqual([
      'created',
      'stale',
      'stale',
      'stale',
    ]);

    // In order, charge.updated changes the description and the refund keeps it.
    await pg.db.none('TRUNCATE transactions, transaction_aliases, transaction_revisions');
    const inOrder = events.map((e) => doc('stripe', e, e.id));
    for (const mapped of inOrder) await writeTransactions(pg.db, [mapped]);
    expect(await rows()).toMatchObject([{ status: 'posted', metadata: { eventId: 'evt_4' } }]);
    const changes = (await getTransaction(pg.db, 'acme', inOrder[0]!.rawId))?.revisions.map((r) => r.changes.description ?? null);
    expect(changes).toEqual([
      null,
      null,
      { from: 'My First Test Charge (created for API docs)', to: 'Order 1234, paid' },
      { from: 'Order 1234, paid', to: 'My First Test Charge (created for API docs)' },
    ]);
  });

  it('an event that carries something other than a charge or balance transaction is refused, naming it', () => {
    expect(() => doc('stripe', event('evt_9', 'customer.created', 1_700_000_000, { id: 'cus_1', object: 'customer' }))).toThrow(
      'payload.data.object.object: a customer.created event carries a "customer"',
    );
  });

  it('a pending charge that fails ends void', async () => {
    const pending = { ...captured, status: 'pending' };
    for (const payload of [pending, { ...pending, status: 'failed' }]) await writeTransactions(pg.db, [doc('stripe', payload)]);
    expect(await rows()).toMatchObject([{ status: 'void' }]);
  });

  it('the balance transaction of a partial refund stays its own row beside the charge', async () => {
    const refundTxn = { ...stripe.balance_transaction, id: 'txn_refund_1', amount: -30, type: 'refund', source: 're_1' };
    await writeTransactions(pg.db, [doc('stripe', captured), doc('stripe', partlyRefunded), doc('stripe', refundTxn)]);
    expect((await rows()).map((r) => [r.provider_ref, r.direction, r.amount_minor])).toEqual([
      [chargeId, 'credit', 100n],
      ['txn_refund_1', 'debit', 30n],
    ]);
  });
});

describe('Plaid: added, modified, removed', () => {
  const added = plaid.syncAdded[0]!;
  // The bank corrected the amount and the merchant: /transactions/sync reports it under `modified`.
  const modified = { ...added, amount: 74.1, merchant_name: 'Walmart Supercenter' };
  const removed = { removed: { transaction_id: added.transaction_id, account_id: added.account_id } };

  it('modified replaces the fields of its added row; the removal is final', async () => {
    const first = doc('plaid', added);
    await writeTransactions(pg.db, [first]);
    const second = doc('plaid', modified);
    await writeTransactions(pg.db, [second]);
    expect(await rows()).toMatchObject([{ raw_id: first.rawId, status: 'posted', amount_minor: 7410n }]);
    const detail = await getTransaction(pg.db, 'acme', second.rawId);
    expect(detail).toMatchObject({ id: first.rawId, counterparty: { name: 'Walmart Supercenter' } });
    expect(detail?.revisions.at(-1)?.changes).toMatchObject({
      amountMinor: { from: '7210', to: '7410' },
      counterparty: { from: 'Walmart', to: 'Walmart Supercenter' },
    });
    const gone = doc('plaid', removed);
    await writeTransactions(pg.db, [gone]);
    // A modified entry received after the removal does not bring the row back.
    await writeTransactions(pg.db, [doc('plaid', { ...modified, amount: 80 })]);
    expect(await rows()).toMatchObject([{ status: 'void', amount_minor: 7410n }]);
    expect((await getTransaction(pg.db, 'acme', gone.rawId))?.revisions.map((r) => r.outcome)).toEqual([
      'created',
      'updated',
      'removal',
      'after-void',
    ]);
  });

  it('order received decides: an added entry processed after its modified one does not undo it', async () => {
    const first = doc('plaid', added);
    const second = doc('plaid', modified);
    await writeTransactions(pg.db, [second]);
    await writeTransactions(pg.db, [first]);
    expect(await rows()).toMatchObject([{ raw_id: second.rawId, amount_minor: 7410n }]);
  });

  it('revisions of one object written by concurrent batches end as one after the other', async () => {
    for (let round = 0; round < 10; round++) {
      await pg.db.none('TRUNCATE transactions, transaction_aliases, transaction_revisions');
      const docs = [added, modified, { ...modified, amount: 75.1 }].map((p) => doc('plaid', p));
      await Promise.all(docs.map((d) => writeTransactions(pg.db, [d])));
      expect(await rows()).toMatchObject([{ amount_minor: 7510n }]);
      expect(await pg.db.one('SELECT count(*)::int AS n FROM transaction_revisions', [], (r) => r.n)).toBe(3);
    }
  });
});

describe('camt.053: an entry pending, then booked', () => {
  const account = { Id: { IBAN: 'CH0309000000250090342' } };
  const pending = {
    Amt: { Ccy: 'CHF', value: '1000.00' },
    CdtDbtInd: 'CRDT',
    Sts: 'PDNG',
    ValDt: { Dt: '2016-05-30' },
    AcctSvcrRef: '20160530007602769939022000000012',
  };
  const booked = { ...pending, Sts: 'BOOK', BookgDt: { Dt: '2016-05-27' } };

  it('PDNG then BOOK is one row, booked; a PDNG received later never moves it back', async () => {
    const docs = [pending, booked, pending].map((Ntry) => doc('iso20022', { Acct: account, Ntry }));
    for (const mapped of docs) await writeTransactions(pg.db, [mapped]);
    expect(await rows()).toEqual([
      expect.objectContaining({
        provider_ref: 'CH0309000000250090342:20160530007602769939022000000012',
        status: 'posted',
        amount_minor: 100000n,
        booked_at: new Date('2016-05-27T00:00:00Z'),
      }),
    ]);
    expect((await getTransaction(pg.db, 'acme', docs[2]!.rawId))?.revisions.map((r) => r.outcome)).toEqual(['created', 'updated', 'stale']);
  });

  it('two entries of one statement sharing an AcctSvcrRef stay two rows', async () => {
    const statement = (index: number, refOccurrence: number) => ({ id: 'STMT-1', index, refOccurrence });
    await writeTransactions(pg.db, [
      doc('iso20022', { Acct: account, Ntry: booked, statement: statement(0, 1) }),
      doc('iso20022', { Acct: account, Ntry: { ...booked, Amt: { Ccy: 'CHF', value: '5.00' } }, statement: statement(1, 2) }),
    ]);
    expect((await rows()).map((r) => r.amount_minor)).toEqual([100000n, 500n]);
  });
});
