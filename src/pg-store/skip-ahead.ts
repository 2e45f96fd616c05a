// A caught-up endpoint's cursor jumps to the tenant's last visible event, so that an endpoint taking rare
// types does not scan the others again.
import type { Database } from '../db/postgres.js';
import { WAITING_SQL } from './endpoint-conditions.js';

/** Moves the cursor to the feed's last visible event of the tenant if no event the endpoint takes lies between (one statement, one snapshot). */
export async function skipAhead(db: Database, endpoint: { id: string; tenant_id: string }): Promise<void> {
  await db.none(
    `UPDATE webhook_endpoints w SET cursor_txid = last.txid, cursor_seq = last.seq
       FROM (SELECT txid, seq FROM events WHERE tenant_id = $2 AND txid < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY txid DESC, seq DESC LIMIT 1) last
      WHERE w.id = $1 AND (w.cursor_txid, w.cursor_seq) < (last.txid, last.seq) AND NOT ${WAITING_SQL}`,
    [endpoint.id, endpoint.tenant_id],
  );
}
