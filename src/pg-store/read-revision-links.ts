// The raw documents each provider object's row was built from, besides its own: its applied revisions.
import type { Database } from '../db/postgres.js';

/** The revisions that shaped these rows (not those superseded, nor recorded before), by row id. */
export async function readRevisionLinks(db: Database, transactionIds: string[]) {
  return db.any<{ transaction_id: string; raw_id: string }>(
    `SELECT transaction_id::text, raw_id FROM transaction_revisions
      WHERE transaction_id = ANY($1::bigint[]) AND outcome NOT IN ('superseded', 'recorded-before')`,
    [transactionIds],
  );
}
