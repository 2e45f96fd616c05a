// Stripe objects as Stripe's API returns them: a balance transaction (money moving on the Stripe
// balance) or a charge. Stripe amounts are already integers in the currency's smallest unit, which for
// every currency Stripe settles matches the ISO 4217 exponent (JPY 0, USD 2, BHD 3); the sign is the
// direction. Fields we do not use are allowed: Stripe adds fields without notice.
import { z } from 'zod';
import { PermanentError } from '../../errors.js';
import { atField, fromEnvelope, parsePayload, unixSeconds } from './mapping.js';
import { parseMinorAmount } from './money.js';
import type { SourceMapper, Transaction, TransactionStatus } from './model.js';

const amount = z.union([z.number().int(), z.string().regex(/^-?\d+$/, 'must be an integer amount of minor units')]);
const currency = z.string().regex(/^[a-z]{3}$/, 'must be a lower-case ISO 4217 code, as Stripe sends it');
const timestamp = z.number().int().positive();

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
  source: z.string().nullable().optional(),
  exchange_rate: z.number().nullable().optional(),
});

const charge = z.object({
  object: z.literal('charge'),
  id: z.string().regex(/^(ch|py)_/, 'must be a charge id (ch_… or py_…)'),
  amount,
  amount_refunded: amount.default(0),
  currency,
  created: timestamp,
  status: z.enum(['succeeded', 'pending', 'failed']),
  refunded: z.boolean().default(false),
  description: z.string().nullable().optional(),
  calculated_statement_descriptor: z.string().nullable().optional(),
  billing_details: z.object({ name: z.string().nullable().optional() }).optional(),
  balance_transaction: z.string().nullable().optional(),
  customer: z.string().nullable().optional(),
  payment_method_details: z.object({ type: z.string() }).optional(),
});

const stripePayload = z.discriminatedUnion('object', [balanceTransaction, charge]);

/** The account a Stripe object moves money on: the tenant's Stripe balance. */
export const STRIPE_ACCOUNT = 'stripe:balance';

export const mapStripe: SourceMapper = (raw) => {
  const p = parsePayload(stripePayload, raw.payload);
  const signed = atField(['amount'], () => parseMinorAmount(p.amount));
  const base = { ...fromEnvelope(raw), externalId: raw.externalId ?? p.id, accountRef: STRIPE_ACCOUNT, currency: p.currency.toUpperCase() };

  if (p.object === 'balance_transaction') {
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
      metadata: { stripeId: p.id, type: p.type, fee: p.fee ?? null, net: p.net ?? null, source: p.source ?? null, exchangeRate: p.exchange_rate ?? null },
    } satisfies Transaction;
  }

  if (p.status === 'failed') throw new PermanentError('invalid_payload', `payload.status: a failed charge (${p.id}) moved no money`);
  if (signed < 0n) throw new PermanentError('invalid_payload', 'payload.amount: a charge amount is never negative');
  // A fully refunded charge is reversed; a partial refund arrives as its own (negative) balance transaction.
  const status: TransactionStatus = p.refunded ? 'reversed' : p.status === 'succeeded' ? 'posted' : 'pending';
  const payer = p.billing_details?.name?.trim();
  return {
    ...base,
    counterparty: payer ? { name: payer, merchantCategoryCode: null } : null,
    direction: 'credit',
    amountMinor: signed,
    status,
    description: p.description ?? p.calculated_statement_descriptor ?? null,
    category: p.payment_method_details?.type ?? 'charge',
    occurredAt: unixSeconds(p.created),
    bookedAt: status === 'pending' ? null : unixSeconds(p.created),
    metadata: { stripeId: p.id, balanceTransaction: p.balance_transaction ?? null, customer: p.customer ?? null, amountRefunded: p.amount_refunded },
  } satisfies Transaction;
};
