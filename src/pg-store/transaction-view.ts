// A transaction as the API shows it, from its row: the GET routes' answers and the events' data (the processor
// records those in the batch's own transaction), so both read one definition, and the columns that read it.
import { z } from 'zod';
import { formatMinor } from '../domain/money.js';
import { directions, statuses } from '../domain/transaction.js';
import type { TransactionViewRow } from './rows.js';

export const transactionViewSchema = z.object({
  id: z.string(),
  source: z.string(),
  externalId: z.string().nullable(),
  account: z.string(),
  counterparty: z.object({ name: z.string(), merchantCategoryCode: z.string().nullable() }).nullable(),
  direction: z.enum(directions),
  amount: z.object({ minor: z.string(), value: z.string(), currency: z.string() }),
  status: z.enum(statuses),
  description: z.string().nullable(),
  category: z.string().nullable(),
  occurredAt: z.string(),
  bookedAt: z.string().nullable(),
  receivedAt: z.string(),
  createdAt: z.string(),
  metadata: z.record(z.string(), z.unknown()),
});
export type TransactionView = z.infer<typeof transactionViewSchema>;

/** One raw document's revision of a provider object: how it ended and what it changed (docs/model.md). */
export const revisionViewSchema = z.object({
  rawId: z.string(),
  outcome: z.enum(['created', 'updated', 'unchanged', 'stale', 'after-void', 'superseded', 'removal', 'recorded-before']),
  changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
  receivedAt: z.string().nullable(),
  recordedAt: z.string(),
});
/** A transaction read by id: the row and, for a provider object, every revision in the order recorded. */
export const transactionDetailSchema = transactionViewSchema.extend({ revisions: z.array(revisionViewSchema) });
export type TransactionDetail = z.infer<typeof transactionDetailSchema>;

/** A TransactionViewRow's columns, of `transactions t` joined with `accounts a` and `counterparties c`. */
export const ROW_COLUMNS = `t.id, t.tenant_id, t.raw_id, t.source, t.external_id, a.external_ref AS account, c.display_name AS cp_name,
         c.merchant_category_code AS cp_mcc, t.direction, t.amount_minor, t.currency, t.status, t.description,
         t.category, t.occurred_at, t.booked_at, t.received_at, t.created_at, t.metadata, t.provider_ref`;

export const SELECT = `
  SELECT ${ROW_COLUMNS}
    FROM transactions t
    JOIN accounts a ON a.id = t.account_id
    LEFT JOIN counterparties c ON c.id = t.counterparty_id`;

export function toView(row: TransactionViewRow): TransactionView {
  return {
    id: row.raw_id,
    source: row.source,
    externalId: row.external_id,
    account: row.account,
    counterparty: row.cp_name ? { name: row.cp_name, merchantCategoryCode: row.cp_mcc } : null,
    direction: row.direction,
    amount: { minor: row.amount_minor.toString(), value: formatMinor(row.amount_minor, row.currency), currency: row.currency },
    status: row.status,
    description: row.description,
    category: row.category,
    occurredAt: row.occurred_at.toISOString(),
    bookedAt: row.booked_at?.toISOString() ?? null,
    receivedAt: row.received_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    metadata: row.metadata,
  };
}
