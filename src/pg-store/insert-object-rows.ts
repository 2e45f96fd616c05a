// New provider objects' rows, inserted in one statement; their ids by natural key for the revisions that follow.
import type { Task } from '../db/postgres.js';
import type { TransactionRow } from './rows.js';
import { transactionInsert } from './transaction-insert.js';

/** Inserts the rows; each one's id with its tenant, source and provider reference. */
export async function insertObjectRows(t: Task, rows: TransactionRow[]) {
  return t.many<{ id: bigint; tenant_id: string; source: string; provider_ref: string }>(
    transactionInsert.query(rows, 'RETURNING id, tenant_id, source, provider_ref'),
  );
}
