// An endpoint whose head event failed: its failure state, and when to try again.
import type { Database } from '../db/postgres.js';

/** Records the attempt count, since when it fails and the error, and the next attempt `backoffMs` from now. */
export async function recordEndpointFailure(
  db: Database,
  endpointId: string,
  failure: { attempts: number; failingSince: Date; error: string; backoffMs: number },
): Promise<void> {
  await db.none(
    `UPDATE webhook_endpoints SET attempts = $2, failing_since = $3, last_error = $4,
            next_attempt_at = clock_timestamp() + $5 * interval '1 millisecond' WHERE id = $1`,
    [endpointId, failure.attempts, failure.failingSince, failure.error, failure.backoffMs],
  );
}
