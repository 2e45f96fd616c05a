// A deliverer leases the webhook endpoints it picked; one another deliverer leased in between is skipped.
import type { Database } from '../db/postgres.js';
import { FREE_SQL, RESENDS_WAITING_SQL } from './endpoint-conditions.js';
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
    // The conditions name the endpoint `w`: the row leased here, and (its own scope) the one the subquery locks.
    `UPDATE webhook_endpoints w SET lease_owner = $1, lease_until = clock_timestamp() + ($2 + $4) * interval '1 millisecond'
      WHERE w.id IN (SELECT w.id FROM webhook_endpoints w WHERE w.id = ANY($3::text[]) AND w.enabled AND ${FREE_SQL}
                      FOR UPDATE SKIP LOCKED)
      RETURNING id, tenant_id, url, events, secret, previous_secret, previous_secret_until, cursor_txid::text, cursor_seq::text,
                attempts, failing_since, next_attempt_at, max_in_flight, ${RESENDS_WAITING_SQL} AS resends_waiting`,
    [lease.worker, lease.leaseMs, ids, lease.timeoutMs],
  );
}
