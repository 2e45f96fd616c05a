// Our own canonical JSON (docs/api.md): the format for sources that map their data before sending.
import { z } from 'zod';
import { parseMajorAmount, parseMinorAmount } from './money.js';
import { payloadError } from './payload-error.js';
import type { SourceMapper, Transaction } from './model.js';

// PostgreSQL text cannot hold NUL; refuse it here with a clear reason rather than as a database error.
const text = (max: number) => z.string().max(max).refine((value) => !value.includes('\u0000'), 'must not contain NUL characters');

const genericPayload = z
  .strictObject({
    account: text(128).pipe(z.string().trim().min(1)),
    /** Major units as a decimal string or number; negative means money out unless `direction` is given. */
    amount: z.union([z.string(), z.number()]).optional(),
    /** Minor units as an integer or digit string; an alternative to `amount`. */
    amountMinor: z.union([z.string(), z.number()]).optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an upper-case ISO 4217 code'),
    direction: z.enum(['debit', 'credit']).optional(),
    occurredAt: z.iso.datetime({ offset: true }),
    description: text(1_000).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((p) => (p.amount === undefined) !== (p.amountMinor === undefined), { message: 'exactly one of amount or amountMinor is required', path: ['amount'] });

export const mapGeneric: SourceMapper = (raw): Transaction => {
  const parsed = genericPayload.safeParse(raw.payload);
  if (!parsed.success) throw payloadError(parsed.error);
  const p = parsed.data;
  let signed: bigint;
  try {
    signed = p.amount !== undefined ? parseMajorAmount(p.amount, p.currency) : parseMinorAmount(p.amountMinor!);
  } catch (error) {
    throw payloadError(error, [p.amount !== undefined ? 'amount' : 'amountMinor']);
  }
  if (p.direction && signed < 0n) throw payloadError(new Error('must not be negative when direction is given'), ['amount']);
  return {
    rawId: raw.rawId,
    tenantId: raw.tenantId,
    source: raw.source,
    externalId: raw.externalId,
    accountRef: p.account,
    direction: p.direction ?? (signed < 0n ? 'debit' : 'credit'),
    amountMinor: signed < 0n ? -signed : signed,
    currency: p.currency,
    description: p.description ?? null,
    occurredAt: new Date(p.occurredAt),
    receivedAt: raw.receivedAt,
    metadata: p.metadata ?? {},
  };
};
