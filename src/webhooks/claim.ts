// A deliverer leases the endpoints it will serve next: those with work due, read first, then picked by
// tenant in turn (tenant-slots) and leased, so that one tenant's many due endpoints never crowd out another's.
import type { Database } from '../db/postgres.js';
import type { TenantSlots } from './tenant-slots.js';

export interface Endpoint {
  id: string;
  tenant_id: string;
  url: string;
  events: string[];
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  cursor_txid: string;
  cursor_seq: string;
  attempts: number;
  failing_since: Date | null;
  next_attempt_at: Date | null;
}

/** An event the feed shows beyond the endpoint's cursor, of a type it takes (the index events_feed_idx). */
export const WAITING_SQL = `EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = w.tenant_id AND e.type = ANY(w.events)
                              AND (e.txid, e.seq) > (w.cursor_txid, w.cursor_seq)
                              AND e.txid < pg_snapshot_xmin(pg_current_snapshot()))`;

const FREE_SQL = '(w.lease_until IS NULL OR w.lease_until < clock_timestamp())';

/**
 * Enabled, not leased, with an event waiting (and due after a failure) or a resend asked for: each tenant's
 * in the order it is served (never failed first, then the longest due), at most `slots` per tenant.
 */
async function readDue(db: Database, slots: number) {
  return db.any<{ id: string; tenant_id: string }>(
    `SELECT id, tenant_id FROM (
       SELECT w.id, w.tenant_id, w.next_attempt_at,
              row_number() OVER (PARTITION BY w.tenant_id ORDER BY w.next_attempt_at NULLS FIRST, w.id) AS place
         FROM webhook_endpoints w
        WHERE w.enabled AND ${FREE_SQL}
          AND (((w.next_attempt_at IS NULL OR w.next_attempt_at <= clock_timestamp()) AND ${WAITING_SQL})
               OR EXISTS (SELECT 1 FROM webhook_resends r WHERE r.endpoint_id = w.id AND r.done_at IS NULL))) due
      WHERE place <= $1 ORDER BY next_attempt_at NULLS FIRST, id`,
    [slots],
  );
}

export interface ClaimOptions {
  db: Database;
  worker: string;
  leaseMs: number;
  timeoutMs: number;
}

/**
 * Leases the endpoints picked from those due, each held in `slots` until released. One another deliverer
 * leased in between is skipped (SKIP LOCKED, and the lease is checked again on the row it locks).
 * `leftBehind`: due endpoints not picked for want of a share, to claim again when a slot frees.
 */
export async function claimDue(options: ClaimOptions, slots: TenantSlots): Promise<{ leased: Endpoint[]; leftBehind: boolean }> {
  const due = await readDue(options.db, slots.slots);
  const picked = slots.pick(due);
  if (picked.length === 0) return { leased: [], leftBehind: due.length > 0 };
  const leased = await options.db.any<Endpoint>(
    `UPDATE webhook_endpoints SET lease_owner = $1, lease_until = clock_timestamp() + ($2 + $4) * interval '1 millisecond'
      WHERE id IN (SELECT w.id FROM webhook_endpoints w WHERE w.id = ANY($3::text[]) AND w.enabled AND ${FREE_SQL}
                    FOR UPDATE SKIP LOCKED)
      RETURNING id, tenant_id, url, events, secret, previous_secret, previous_secret_until, cursor_txid::text, cursor_seq::text,
                attempts, failing_since, next_attempt_at`,
    [options.worker, options.leaseMs, picked.map((e) => e.id), options.timeoutMs],
  );
  for (const endpoint of leased) slots.hold(endpoint.tenant_id);
  return { leased, leftBehind: due.length > picked.length };
}
