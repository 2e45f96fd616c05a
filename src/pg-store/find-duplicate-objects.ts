// Two live rows for one provider object: the unique key forbids it, a hand-made fix might not.
import type { Database } from '../db/postgres.js';
import type { RangeFilter } from './rows.js';

/** The provider objects of the range with more than one live row: their raw ids and receipts, in id order. */
export async function findDuplicateObjects(db: Database, filter: RangeFilter) {
  return db.any<{ tenant_id: string; source: string; provider_ref: string; raw_ids: string[]; received: Date[] }>(
    `SELECT tenant_id, source, provider_ref, array_agg(raw_id ORDER BY id) AS raw_ids, array_agg(received_at ORDER BY id) AS received
       FROM transactions
      WHERE provider_ref IS NOT NULL AND status <> 'void' AND received_at >= $1 AND received_at < $2
        AND ($3::text IS NULL OR tenant_id = $3) AND ($4::text IS NULL OR source = $4)
      GROUP BY tenant_id, source, provider_ref HAVING count(*) > 1`,
    [filter.from, filter.to, filter.tenantId ?? null, filter.source ?? null],
  );
}
