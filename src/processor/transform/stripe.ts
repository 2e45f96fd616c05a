// Stripe objects as Stripe's API returns them: a balance transaction (money moving on the Stripe
// balance) or a charge. Stripe amounts are integers in Stripe's unit for the currency, which is not always
// the ISO 4217 minor unit (ISK, MGA): stripe-currency.ts re-scales them. The sign is the direction. Fields
// we do not read are allowed, and every field we read accepts what Stripe's OpenAPI spec allows: nullable
// fields take null, expandable ones take the id or the expanded object.
import { z } from 'zod';
import { PermanentError } from '../../domain/errors.js';
import { currencyExponent, parseMinorAmount } from '../../domain/money.js';
import type { SourceMapper, Transaction, TransactionStatus } from '../../domain/transaction.js';
import { atField, fromEnvelope, parsePayload, unixSeconds } from './mapping.js';
import { stripeToIsoMinor } from './stripe-currency.js';

const amount = z.union([z.number().int(), z.string().regex(/^-?\d+$/, 'must be an integer amount of minor units')]);
const currency = z.string().regex(/^[a-z]{3}$/, 'must be a lower-case ISO 4217 code, as Stripe sends it');
const timestamp = z.number().int().positive();

/** An expandable field: `string | {id, …} | null` in Stripe's spec; we keep the id. */
const expandable = z
  .union([z.string(), z.looseObject({ id: z.string() })])
  .nullable()
  .optional()
  .transform((value) => (value == null ? null : typeof value === 'string' ? value : value.id));

const balanceTransaction = z.object({
  object: z.literal('balance_transaction'),
  id: z.string().regex(/^txn_/, 'must be a balance transaction id (txn_…)'),
  amount,
  currency,
  created: timestamp,
  available_on: timestamp,
  status: z.enum(['available', 'pending']),
  type: z.string().min(1),
  reporting_category: z.string().min(1).optional(),
  description: z.string().nullable().optional(),
  fee: amount.optional(),
  net: amount.optional(),
  source: expandable,
  exchange_rate: z.number().nullable().optional(),
});

const charge = z.object({
  object: z.literal('charge'),
  id: z.string().regex(/^(ch|py)_/, 'must be a charge id (ch_… or py_…)'),
  amount,
  /** Absent before API version 2019-12-03 (then a captured charge captured `amount`). */
  amount_captured: amount.optional(),
  amount_refunded: amount.default(0),
  captured: z.boolean().default(true),
  currency,
  created: timestamp,
  status: z.enum(['succeeded', 'pending', 'failed']),
  refunded: z.boolean().default(false),
  description: z.string().nullable().optional(),
  calculated_statement_descriptor: z.string().nullable().optional(),
  billing_details: z.object({ name: z.string().nullable().optional() }).nullable().optional(),
  balance_transaction: expandable,
  customer: expandable,
  payment_method_details: z.object({ type: z.string() }).nullable().optional(),
});

const stripePayload = z.discriminatedUnion('object', [balanceTransaction, charge]);

/** The account a Stripe object moves money on: the tenant's Stripe balance. */
export const STRIPE_ACCOUNT = 'stripe:balance';

export const mapStripe: SourceMapper = (raw) => {
  const p = parsePayload(stripePayload, raw.payload);
  const code = p.currency.toUpperCase();
  atField(['currency'], () => currencyExponent(code));
  /** A Stripe amount field as ISO 4217 minor units of the object's currency, errors naming the field. */
  const iso = (field: string, value: string | number) => atField([field], () => stripeToIsoMinor(parseMinorAmount(value), code));
  const isoOrNull = (field: string, value: string | number | undefined) => (value === undefined ? null : iso(field, value).toString());
  const base = { ...fromEnvelope(raw), externalId: raw.externalId ?? p.id, providerRef: p.id, accountRef: STRIPE_ACCOUNT, currency: code };

  if (p.object === 'balance_transaction') {
    const signed = iso('amount', p.amount);
    const posted = p.status === 'available';
    return {
      ...base,
      counterparty: null,
      direction: signed < 0n ? 'debit' : 'credit',
      amountMinor: signed < 0n ? -signed : signed,
      status: posted ? 'posted' : 'pending',
      description: p.description ?? null,
      category: p.reporting_category ?? p.type,
      occurredAt: unixSeconds(p.created),
      bookedAt: posted ? unixSeconds(p.available_on) : null,
      metadata: {
        stripeId: p.id,
        type: p.type,
        feeMinor: isoOrNull('fee', p.fee),
        netMinor: isoOrNull('net', p.net),
        source: p.source,
        exchangeRate: p.exchange_rate ?? null,
      },
    } satisfies Transaction;
  }

  if (p.status === 'failed') throw new PermanentError('invalid_payload', `payload.status: a failed charge (${p.id}) moved no money`);
  const authorised = iso('amount', p.amount);
  if (authorised < 0n) throw new PermanentError('invalid_payload', 'payload.amount: a charge amount is never negative');
  // An uncaptured charge is an authorisation: no money moved yet, so it is pending for the amount
  // authorised. A captured one moved `amount_captured`, which a partial capture makes less than `amount`.
  const captured = p.captured ? (p.amount_captured === undefined ? authorised : iso('amount_captured', p.amount_captured)) : null;
  if (captured !== null && (captured < 0n || captured > authorised)) {
    throw new PermanentError('invalid_payload', `payload.amount_captured: ${p.amount_captured} is outside 0…amount (${p.amount})`);
  }
  // A fully refunded charge is reversed; a partial refund arrives as its own (negative) balance transaction.
  // Releasing an uncaptured authorisation refunds it in full: reversed, never booked.
  const status: TransactionStatus = p.refunded ? 'reversed' : !p.captured || p.status === 'pending' ? 'pending' : 'posted';
  const payer = p.billing_details?.name?.trim();
  return {
    ...base,
    counterparty: payer ? { name: payer, merchantCategoryCode: null } : null,
    direction: 'credit',
    amountMinor: captured ?? authorised,
    status,
    description: p.description ?? p.calculated_statement_descriptor ?? null,
    category: p.payment_method_details?.type ?? 'charge',
    occurredAt: unixSeconds(p.created),
    bookedAt: status === 'pending' || captured === null ? null : unixSeconds(p.created),
    metadata: {
      stripeId: p.id,
      balanceTransaction: p.balance_transaction,
      customer: p.customer,
      captured: p.captured,
      amountAuthorizedMinor: authorised.toString(),
      amountRefundedMinor: iso('amount_refunded', p.amount_refunded).toString(),
    },
  } satisfies Transaction;
};
