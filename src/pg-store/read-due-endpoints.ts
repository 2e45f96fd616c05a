// The webhook endpoints with work due, each tenant's in the order it is served, for a deliverer to pick from.
import type { Database } from '../db/postgres.js';
import { FREE_SQL, RESENDS_WAITING_SQL, WAITING_SQL } from './endpoint-conditions.js';

/**
 * Enabled, not leased, with an event waiting (and due after a failure) or a resend asked for: each tenant's
 * in the order it is served (never failed first, then the longest due), at most `slots` per tenant.
 */
export async function readDueEndpoints(db: Database, slots: number) {
  return db.any<{ id: string; tenant_id: string }>(
    `SELECT id, tenant_id FROM (
       SELECT w.id, w.tenant_id, w.next_attempt_at,
              row_number() OVER (PARTITION BY w.tenant_id ORDER BY w.next_attempt_at NULLS FIRST, w.id) AS place
         FROM webhook_endpoints w
        WHERE w.enabled AND ${FREE_SQL}
          AND (((w.next_attempt_at IS NULL OR w.next_attempt_at <= clock_timestamp()) AND ${WAITING_SQL})
               OR ${RESENDS_WAITING_SQL})) due
      WHERE place <= $1 ORDER BY next_attempt_at NULLS FIRST, id`,
    [slots],
  );
}
