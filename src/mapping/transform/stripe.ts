// Stripe charges and balance transactions, bare or inside a webhook's Event, as revisions of their object.
import { z } from 'zod';
import { PermanentError } from '../../domain/errors.js';
import { currencyExponent, parseMinorAmount } from '../../domain/money.js';
import type { RawInput, SourceMapper, Transaction, TransactionStatus } from '../../domain/transaction.js';
import { atField, fromEnvelope, parsePayload, receivedMs, unixSeconds } from './mapping.js';
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

const stripeObject = z.discriminatedUnion('object', [balanceTransaction, charge]);

/** A webhook Event (`object: "event"`): `data.object` is the object as it was when the event happened. */
const stripeEvent = z.object({
  object: z.literal('event'),
  id: z.string().regex(/^evt_/, 'must be an event id (evt_…)'),
  type: z.string().min(1),
  created: timestamp,
  data: z.object({ object: z.looseObject({ object: z.string() }) }),
});

/** The object a payload carries, and the event that delivered it (null for a bare object). */
function unwrap(payload: Record<string, unknown>): { p: z.infer<typeof stripeObject>; event: z.infer<typeof stripeEvent> | null } {
  if (payload.object !== 'event') return { p: parsePayload(stripeObject, payload), event: null };
  const event = parsePayload(stripeEvent, payload);
  const kind = event.data.object.object;
  if (kind !== 'charge' && kind !== 'balance_transaction') {
    throw new PermanentError(
      'invalid_payload',
      `payload.data.object.object: a ${event.type} event carries a ${JSON.stringify(kind)}; only charge and balance_transaction events are transactions`,
    );
  }
  return { p: inEvent(() => parsePayload(stripeObject, event.data.object)), event };
}

/** Runs `read` on an event's object, naming the fields it rejects where they are: payload.data.object.… */
function inEvent<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof PermanentError)) throw error;
    throw new PermanentError(error.code, error.message.replace(/(^|; )payload\./g, '$1payload.data.object.'), { cause: error });
  }
}

/** A charge's stage: authorised (or pending) < captured < refunded in full < failed; never moves back. */
const chargeStage = { pending: 0n, posted: 1n, reversed: 2n, void: 3n } as const;

/** The account a Stripe object moves money on: the tenant's Stripe balance. */
export const STRIPE_ACCOUNT = 'stripe:balance';

/**
 * Each snapshot's revision key orders snapshots by the object's lifecycle, then by the event's `created`.
 * Stripe amounts are integers in Stripe's unit for the currency, which is not always the ISO 4217 minor unit
 * (ISK, MGA): stripe-currency.ts re-scales them. The sign is the direction. Fields we do not read are allowed,
 * and every field we read accepts what Stripe's OpenAPI spec allows: nullable fields take null, expandable
 * ones take the id or the expanded object.
 */
export const mapStripe: SourceMapper = (raw) => {
  const { p, event } = unwrap(raw.payload);
  return event ? inEvent(() => mapObject(raw, p, event)) : mapObject(raw, p, null);
};

/** What every Stripe object maps alike: the envelope, its id, its currency, and how a field becomes ISO minor units. */
function commonOf(raw: RawInput, p: z.infer<typeof stripeObject>, event: z.infer<typeof stripeEvent> | null) {
  const code = p.currency.toUpperCase();
  atField(['currency'], () => currencyExponent(code));
  return {
    base: { ...fromEnvelope(raw), externalId: raw.externalId ?? p.id, providerRef: p.id, accountRef: STRIPE_ACCOUNT, currency: code },
    /** A Stripe amount field as ISO 4217 minor units of the object's currency, errors naming the field. */
    iso: (field: string, value: string | number) => atField([field], () => stripeToIsoMinor(parseMinorAmount(value), code)),
    // After the lifecycle: the event's time (0 for a bare snapshot), then the receipt time.
    delivered: [BigInt(event?.created ?? 0), receivedMs(raw)],
    eventFields: event ? { eventId: event.id, eventType: event.type } : {},
  };
}

type Common = ReturnType<typeof commonOf>;

function mapObject(raw: RawInput, p: z.infer<typeof stripeObject>, event: z.infer<typeof stripeEvent> | null): Transaction {
  const common = commonOf(raw, p, event);
  return p.object === 'balance_transaction' ? mapBalanceTransaction(p, common) : mapCharge(p, common);
}

function mapBalanceTransaction(p: z.infer<typeof balanceTransaction>, { base, iso, delivered, eventFields }: Common): Transaction {
  const isoOrNull = (field: string, value: string | number | undefined) => (value === undefined ? null : iso(field, value).toString());
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
    revisionKey: [posted ? 1n : 0n, ...delivered],
    metadata: {
      ...eventFields,
      stripeId: p.id,
      type: p.type,
      feeMinor: isoOrNull('fee', p.fee),
      netMinor: isoOrNull('net', p.net),
      source: p.source,
      exchangeRate: p.exchange_rate ?? null,
    },
  };
}

function mapCharge(p: z.infer<typeof charge>, { base, iso, delivered, eventFields }: Common): Transaction {
  const authorised = iso('amount', p.amount);
  if (authorised < 0n) throw new PermanentError('invalid_payload', 'payload.amount: a charge amount is never negative');
  // An uncaptured charge is an authorisation: no money moved yet, so it is pending for the amount
  // authorised. A captured one moved `amount_captured`, which a partial capture makes less than `amount`.
  const failed = p.status === 'failed';
  const captured =
    p.captured && !failed ? (p.amount_captured === undefined ? authorised : iso('amount_captured', p.amount_captured)) : null;
  if (captured !== null && (captured < 0n || captured > authorised)) {
    throw new PermanentError('invalid_payload', `payload.amount_captured: ${p.amount_captured} is outside 0…amount (${p.amount})`);
  }
  // A fully refunded charge is reversed; a partial refund arrives as its own (negative) balance transaction
  // and shows here as amount_refunded. Releasing an uncaptured authorisation refunds it in full: reversed,
  // never booked. A failed charge moved no money: void (a pending one that fails ends there).
  const status: TransactionStatus = failed
    ? 'void'
    : p.refunded
      ? 'reversed'
      : !p.captured || p.status === 'pending'
        ? 'pending'
        : 'posted';
  const refunded = iso('amount_refunded', p.amount_refunded);
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
    // amount_captured and amount_refunded never shrink over a charge's life.
    revisionKey: [chargeStage[status], captured ?? 0n, refunded, ...delivered],
    metadata: {
      ...eventFields,
      stripeId: p.id,
      balanceTransaction: p.balance_transaction,
      customer: p.customer,
      captured: p.captured,
      amountAuthorizedMinor: authorised.toString(),
      amountRefundedMinor: refunded.toString(),
    },
  };
}
