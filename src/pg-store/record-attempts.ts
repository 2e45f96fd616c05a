// A page of delivery attempts written once, with the endpoint's cursor moved past what it received.
import type { Database } from '../db/postgres.js';
import type { AttemptRow } from './rows.js';

/**
 * Writes the attempts and, after a success, moves the cursor on (never backwards) and clears the failure state.
 * One statement (the update a data-modifying WITH): atomic as a transaction would be, in one round trip
 * instead of four (BEGIN, INSERT, UPDATE, COMMIT), once per page a deliverer posts.
 */
export async function recordAttempts(
  db: Database,
  endpointId: string,
  attempts: AttemptRow[],
  delivered: { txid: string; seq: string } | null,
): Promise<void> {
  // A deliverer whose lease lapsed mid-turn may still finish an older event: the cursor only moves forward.
  await db.none(
    `WITH moved AS (
       UPDATE webhook_endpoints SET cursor_txid = $3::xid8, cursor_seq = $4, attempts = 0, next_attempt_at = NULL, failing_since = NULL,
              last_error = NULL
        WHERE id = $1 AND $3::xid8 IS NOT NULL AND (cursor_txid, cursor_seq) < ($3::xid8, $4::bigint))
     INSERT INTO webhook_deliveries (endpoint_id, event_id, attempt, status, error, duration_ms, delay_ms, resend)
     SELECT $1, a.event_id, a.attempt, a.status, a.error, a.duration_ms, a.delay_ms, a.resend
       FROM jsonb_to_recordset($2::jsonb)
         AS a(event_id text, attempt integer, status integer, error text, duration_ms integer, delay_ms integer, resend boolean)`,
    [endpointId, JSON.stringify(attempts), delivered?.txid ?? null, delivered?.seq ?? null],
  );
}
