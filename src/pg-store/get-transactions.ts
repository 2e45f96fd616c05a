// Transactions read by raw id, as GET /api/v1/transactions/{id}, a statement's entries and the events show
// them: a row and, for a provider object, its revisions, in at most two statements whatever their number.
import type { Database, Task } from '../db/postgres.js';
import { readClassified as read } from '../db/postgres-errors.js';
import type { TransactionViewRow as Row } from './rows.js';
import { SELECT, type TransactionDetail, toView } from './transaction-view.js';

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
