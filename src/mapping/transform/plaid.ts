// A Plaid transaction as /transactions/sync returns it (`added`, `modified`), or a `removed` entry wrapped as
// `{ "removed": { transaction_id, account_id } }`.
import { z } from 'zod';
import { PermanentError } from '../../domain/errors.js';
import { parseMajorAmount } from '../../domain/money.js';
import type { SourceMapper } from '../../domain/transaction.js';
import { atField, dateOnly, fromEnvelope, parsePayload, receivedMs } from './mapping.js';

const date = z.iso.date();
const dateTime = z.iso.datetime({ offset: true });

const plaidTransaction = z.object({
  transaction_id: z.string().min(1),
  account_id: z.string().min(1),
  amount: z.union([z.number(), z.string()]),
  iso_currency_code: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .nullable(),
  unofficial_currency_code: z.string().nullable().optional(),
  date,
  datetime: dateTime.nullable().optional(),
  authorized_date: date.nullable().optional(),
  authorized_datetime: dateTime.nullable().optional(),
  name: z.string().nullable().optional(),
  merchant_name: z.string().nullable().optional(),
  pending: z.boolean(),
  pending_transaction_id: z.string().min(1).nullable().optional(),
  payment_channel: z.string().optional(),
  personal_finance_category: z.object({ primary: z.string(), detailed: z.string().optional() }).nullable().optional(),
  counterparties: z.array(z.object({ name: z.string(), type: z.string().optional() })).optional(),
  merchant_entity_id: z.string().nullable().optional(),
});

/** Plaid's RemovedTransaction schema: `{ transaction_id, account_id }`, additional properties allowed. */
const removedEntry = z.object({ removed: z.object({ transaction_id: z.string().min(1), account_id: z.string().min(1) }) });

/**
 * Plaid's sign convention is the reverse of ours: a positive amount is money out of the account (a debit), a
 * negative one money in. Amounts are major units as JSON numbers, parsed from their decimal rendering, never
 * through float arithmetic. A posted transaction naming its `pending_transaction_id` supersedes that pending
 * row.
 */
export const mapPlaid: SourceMapper = (raw) => {
  if (typeof raw.payload === 'object' && raw.payload !== null && Object.hasOwn(raw.payload, 'removed')) {
    const { removed } = parsePayload(removedEntry, raw.payload);
    return { kind: 'removal', rawId: raw.rawId, tenantId: raw.tenantId, source: raw.source, providerRef: removed.transaction_id };
  }
  const p = parsePayload(plaidTransaction, raw.payload);
  if (!p.iso_currency_code) {
    // Unofficial currencies (crypto, loyalty points) have no ISO 4217 exponent, so no exact minor unit to
    // store; Plaid itself says their amounts are not to be summed with ISO ones. Refused, naming the code.
    throw new PermanentError(
      'invalid_payload',
      `payload.iso_currency_code: missing; unofficial currency ${JSON.stringify(p.unofficial_currency_code ?? null)} is not an ISO 4217 currency`,
    );
  }
  const currency = p.iso_currency_code;
  const signed = atField(['amount'], () => parseMajorAmount(p.amount, currency));
  const merchant = p.merchant_name?.trim() || p.counterparties?.[0]?.name.trim() || null;
  // When it happened is when it was authorised; the posting fields say when it was booked. Plaid's
  // `datetime` is the posting time, so it comes after both authorisation fields.
  const occurredAt = p.authorized_datetime
    ? new Date(p.authorized_datetime)
    : p.authorized_date
      ? dateOnly(p.authorized_date)
      : p.datetime
        ? new Date(p.datetime)
        : dateOnly(p.date);
  return {
    ...fromEnvelope(raw),
    externalId: raw.externalId ?? p.transaction_id,
    providerRef: p.transaction_id,
    supersedes: p.pending ? null : (p.pending_transaction_id ?? null),
    // `added` then `modified`: the order received is the order of revisions (a removal is final).
    revisionKey: [receivedMs(raw)],
    accountRef: p.account_id,
    counterparty: merchant ? { name: merchant, merchantCategoryCode: null } : null,
    // Plaid: positive = money out.
    direction: signed > 0n ? 'debit' : 'credit',
    amountMinor: signed < 0n ? -signed : signed,
    currency,
    status: p.pending ? 'pending' : 'posted',
    description: p.name ?? null,
    category: p.personal_finance_category?.primary ?? null,
    occurredAt,
    bookedAt: p.pending ? null : p.datetime ? new Date(p.datetime) : dateOnly(p.date),
    metadata: {
      plaidTransactionId: p.transaction_id,
      pendingTransactionId: p.pending_transaction_id ?? null,
      paymentChannel: p.payment_channel ?? null,
      categoryDetailed: p.personal_finance_category?.detailed ?? null,
      merchantEntityId: p.merchant_entity_id ?? null,
    },
  };
};
