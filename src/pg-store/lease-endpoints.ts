// A deliverer leases the webhook endpoints it picked; one another deliverer leased in between is skipped.
import type { Database } from '../db/postgres.js';
import { FREE_SQL } from './endpoint-conditions.js';
import type { LeasedEndpoint } from './rows.js';

/**
 * Leases these endpoints to `worker` for `leaseMs + timeoutMs` (SKIP LOCKED, and the lease checked again on
 * the row it locks); returns those it leased, each saying whether resends wait (so a turn without any skips their read).
 */
export async function leaseEndpoints(
  db: Database,
  lease: { worker: string; leaseMs: number; timeoutMs: number },
  ids: string[],
): Promise<LeasedEndpoint[]> {
  return db.any<LeasedEndpoint>(
    `UPDATE webhook_endpoints SET lease_owner = $1, lease_until = clock_timestamp() + ($2 + $4) * interval '1 millisecond'
      WHERE id IN (SELECT w.id FROM webhook_endpoints w WHERE w.id = ANY($3::text[]) AND w.enabled AND ${FREE_SQL}
                    FOR UPDATE SKIP LOCKED)
      RETURNING id, tenant_id, url, events, secret, previous_secret, previous_secret_until, cursor_txid::text, cursor_seq::text,
                attempts, failing_since, next_attempt_at,
                EXISTS (SELECT 1 FROM webhook_resends r WHERE r.endpoint_id = webhook_endpoints.id AND r.done_at IS NULL) AS resends_waiting`,
    [lease.worker, lease.leaseMs, ids, lease.timeoutMs],
  );
}
