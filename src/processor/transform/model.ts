// The canonical transaction every source is mapped into before it reaches PostgreSQL (docs/model.md).
// Mappers build it; transformRaw checks each one against this schema, so no mapper can let through a
// negative amount, an unknown currency or an empty account.
import { z } from 'zod';
import { currencyExponent } from './money.js';

export const directions = ['debit', 'credit'] as const;
export const statuses = ['pending', 'posted', 'reversed'] as const;
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
  /** The tenant's own reference for the account; resolved to an `accounts` row when written. */
  accountRef: z.string().min(1).max(128).refine(noNul, 'must not contain NUL characters'),
  counterparty: counterpartySchema.nullable(),
  direction: z.enum(directions),
  /** Integer minor units, never negative: the direction carries the sign. */
  amountMinor: z.bigint().nonnegative().max(2n ** 63n - 1n, 'exceeds the largest amount PostgreSQL bigint holds'),
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

/** What a source mapper sees of a raw document. */
export interface RawInput {
  rawId: string;
  tenantId: string;
  source: string;
  externalId: string | null;
  payload: Record<string, unknown>;
  receivedAt: Date;
}

/** Maps one source's payload to a transaction; throws a PermanentError naming the field it rejects. */
export type SourceMapper = (raw: RawInput) => Transaction;
