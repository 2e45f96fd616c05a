// The rows received in a range, a chunk at a time by id, for reconciliation to look each up among the documents.
import type { Database } from '../db/postgres.js';
import type { RangeFilter, RangeRow } from './rows.js';

/** Up to `limit` rows of the range after the row id `after`, in id order. */
export async function readRangeRows(db: Database, filter: RangeFilter, after: string, limit: number): Promise<RangeRow[]> {
  return db.any<RangeRow>(
    `SELECT id::text, raw_id, tenant_id, source, received_at, created_at, direction, amount_minor::text AS amount, currency, status
       FROM transactions
      WHERE id > $1::bigint AND received_at >= $2 AND received_at < $3
        AND ($4::text IS NULL OR tenant_id = $4) AND ($5::text IS NULL OR source = $5)
      ORDER BY transactions.id LIMIT ${limit}`,
    [after, filter.from, filter.to, filter.tenantId ?? null, filter.source ?? null],
  );
}
