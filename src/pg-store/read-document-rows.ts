// The rows these raw documents wrote under their own raw ids, as reconciliation compares them with the documents.
import type { Database } from '../db/postgres.js';
import type { ReconciledRow } from './rows.js';

const ROWS_SQL = `SELECT id::text, raw_id, provider_ref, direction, amount_minor::text AS amount, currency, status
  FROM transactions WHERE raw_id = ANY($1::text[])`;

export async function readDocumentRows(db: Database, rawIds: string[]): Promise<ReconciledRow[]> {
  return db.any<ReconciledRow>(ROWS_SQL, [rawIds]);
}
