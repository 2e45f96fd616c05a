// A transaction as the API shows it, read from its row: the GET routes' answers and the events' data (the
// processor records those in the batch's own transaction), so both read one definition.
import { z } from 'zod';
import type { Database, Task } from '../db/postgres.js';
import { readClassified as read } from '../db/postgres-errors.js';
import { formatMinor } from '../domain/money.js';
import { type Direction, directions, statuses, type TransactionStatus } from '../domain/transaction.js';

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

export interface Row {
  id: bigint;
  tenant_id: string;
  raw_id: string;
  source: string;
  external_id: string | null;
  account: string;
  cp_name: string | null;
  cp_mcc: string | null;
  direction: Direction;
  amount_minor: bigint;
  currency: string;
  status: TransactionStatus;
  description: string | null;
  category: string | null;
  occurred_at: Date;
  booked_at: Date | null;
  received_at: Date;
  created_at: Date;
  metadata: Record<string, unknown>;
  /** Set on a provider object's row, the only rows with revisions. */
  provider_ref: string | null;
}

/** A Row's columns, of `transactions t` joined with `accounts a` and `counterparties c`. */
export const ROW_COLUMNS = `t.id, t.tenant_id, t.raw_id, t.source, t.external_id, a.external_ref AS account, c.display_name AS cp_name,
         c.merchant_category_code AS cp_mcc, t.direction, t.amount_minor, t.currency, t.status, t.description,
         t.category, t.occurred_at, t.booked_at, t.received_at, t.created_at, t.metadata, t.provider_ref`;

export const SELECT = `
  SELECT ${ROW_COLUMNS}
    FROM transactions t
    JOIN accounts a ON a.id = t.account_id
    LEFT JOIN counterparties c ON c.id = t.counterparty_id`;

export function toView(row: Row): TransactionView {
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

export async function getTransaction(db: Database, tenantId: string, rawId: string): Promise<TransactionDetail | undefined> {
  return (await getTransactions(db, tenantId, [rawId])).get(rawId);
}

type RevisionRecord = {
  transaction_id: bigint;
  raw_id: string;
  outcome: string;
  changes: FieldChanges;
  received_at: Date | null;
  recorded_at: Date;
};
type FieldChanges = Record<string, { from: unknown; to: unknown }>;

/** The transactions these raw documents wrote (or revised), by raw id, in at most two statements whatever their number. */
export async function getTransactions(db: Database | Task, tenantId: string, rawIds: string[]): Promise<Map<string, TransactionDetail>> {
  if (rawIds.length === 0) return new Map();
  // A pending row replaced by its posted one (Plaid) is read through its successor, which keeps its raw id;
  // a revision, or a resubmission of an external id already written, through its alias.
  const rows = await read(() =>
    db.any<Row & { asked: string }>(
      `SELECT DISTINCT ON (k.raw_id) k.raw_id AS asked, r.*
         FROM unnest($2::text[]) AS k(raw_id)
         CROSS JOIN LATERAL (${SELECT}
           WHERE t.tenant_id = $1
             AND (t.raw_id = k.raw_id OR t.superseded_raw_id = k.raw_id
                  OR t.id = (SELECT transaction_id FROM transaction_aliases WHERE raw_id = k.raw_id AND tenant_id = $1))
           ORDER BY t.raw_id = k.raw_id DESC LIMIT 1) AS r`,
      [tenantId, rawIds],
    ),
  );
  if (rows.length === 0) return new Map();
  // Only provider objects have revisions: a read of plain rows costs no second statement.
  const revised = [...new Set(rows.filter((row) => row.provider_ref !== null).map((row) => row.id.toString()))];
  const revisions =
    revised.length === 0
      ? []
      : await read(() =>
          db.any<RevisionRecord>(
            `SELECT transaction_id, raw_id, outcome, changes, received_at, recorded_at FROM transaction_revisions
              WHERE transaction_id = ANY($1::bigint[]) AND tenant_id = $2 ORDER BY id`,
            [revised, tenantId],
          ),
        );
  const byTransaction = new Map<bigint, TransactionDetail['revisions']>();
  for (const r of revisions) {
    const list = byTransaction.get(r.transaction_id) ?? [];
    list.push({
      rawId: r.raw_id,
      outcome: r.outcome as TransactionDetail['revisions'][number]['outcome'],
      changes: r.changes,
      receivedAt: r.received_at?.toISOString() ?? null,
      recordedAt: r.recorded_at.toISOString(),
    });
    byTransaction.set(r.transaction_id, list);
  }
  return new Map(rows.map((row) => [row.asked, { ...toView(row), revisions: byTransaction.get(row.id) ?? [] }]));
}
