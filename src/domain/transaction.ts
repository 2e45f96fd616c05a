// The canonical transaction every source is mapped into (docs/model.md); transformRaw checks each mapper's
// output against this schema, so none can let through a negative amount, an unknown currency or no account.
import { z } from 'zod';
import { currencyExponent, MAX_MINOR } from './money.js';

export const directions = ['debit', 'credit'] as const;
export const statuses = ['pending', 'posted', 'reversed', 'void'] as const;
export type Direction = (typeof directions)[number];
export type TransactionStatus = (typeof statuses)[number];

const noNul = (value: string) => !value.includes('\u0000');

export const counterpartySchema = z.object({
  name: z.string().trim().min(1).max(256).refine(noNul, 'must not contain NUL characters'),
  /** ISO 18245 merchant category code. */
  merchantCategoryCode: z
    .string()
    .regex(/^[0-9]{4}$/, 'must be a 4-digit merchant category code')
    .nullable(),
});

export const transactionSchema = z.object({
  rawId: z.string().min(1),
  tenantId: z.string().min(1),
  source: z.string().min(1),
  externalId: z.string().min(1).nullable(),
  /** The provider's own id for this transaction (Stripe object id, Plaid transaction_id), when it has one. */
  providerRef: z.string().min(1).max(255).refine(noNul, 'must not contain NUL characters').nullable(),
  /**
   * The providerRef of an earlier row of the same tenant and source that this one replaces: a Plaid posted
   * transaction names its pending one. The writer removes that row and links it from this one.
   */
  supersedes: z.string().min(1).max(255).refine(noNul, 'must not contain NUL characters').nullable(),
  /**
   * Where this snapshot stands in the provider object's life, compared element by element: a revision whose
   * key is lower than the row's never moves the row back (docs/model.md gives each source's key). Null
   * without a providerRef.
   */
  revisionKey: z
    .array(
      z
        .bigint()
        .min(-(2n ** 63n))
        .max(2n ** 63n - 1n),
    )
    .min(1)
    .max(8)
    .nullable(),
  /** The tenant's own reference for the account; resolved to an `accounts` row when written. */
  accountRef: z.string().min(1).max(128).refine(noNul, 'must not contain NUL characters'),
  counterparty: counterpartySchema.nullable(),
  direction: z.enum(directions),
  /** Integer minor units, never negative: the direction carries the sign. */
  amountMinor: z.bigint().nonnegative().max(MAX_MINOR, 'exceeds the largest amount PostgreSQL bigint holds'),
  currency: z.string().refine((code) => {
    try {
      currencyExponent(code);
      return true;
    } catch {
      return false;
    }
  }, 'must be an ISO 4217 currency code'),
  status: z.enum(statuses),
  description: z.string().max(1_000).refine(noNul, 'must not contain NUL characters').nullable(),
  category: z.string().max(128).nullable(),
  occurredAt: z.date(),
  /** When the bank or provider booked it; null while pending. */
  bookedAt: z.date().nullable(),
  receivedAt: z.date(),
  metadata: z.record(z.string(), z.unknown()),
});

export type Counterparty = z.infer<typeof counterpartySchema>;
export type Transaction = z.infer<typeof transactionSchema>;

/**
 * A provider's statement that a transaction it sent before no longer exists (Plaid /transactions/sync
 * `removed`): the writer voids the row with that providerRef, whenever it arrives.
 */
export const removalSchema = z.object({
  kind: z.literal('removal'),
  rawId: z.string().min(1),
  tenantId: z.string().min(1),
  source: z.string().min(1),
  providerRef: z.string().min(1).max(255).refine(noNul, 'must not contain NUL characters'),
});
export type Removal = z.infer<typeof removalSchema>;

/** What a raw document maps to: a transaction to record, or the removal of one recorded earlier. */
export type Mapped = Transaction | Removal;

export const isRemoval = (mapped: Mapped): mapped is Removal => 'kind' in mapped && mapped.kind === 'removal';

/** What a source mapper sees of a raw document. */
export interface RawInput {
  rawId: string;
  tenantId: string;
  source: string;
  externalId: string | null;
  payload: Record<string, unknown>;
  receivedAt: Date;
}

/** Maps one source's payload to a transaction (or a removal); throws a PermanentError naming the field it rejects. */
export type SourceMapper = (raw: RawInput) => Mapped;
