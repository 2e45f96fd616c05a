// A webhook endpoint changed: its URL, events, state or events in flight, or a new secret with the old one valid a while more.
import type { Database } from '../db/postgres.js';
import { ENDPOINT_COLUMNS, type EndpointRow } from './rows.js';

export interface EndpointChange {
  url?: string;
  events?: string[];
  enabled?: boolean;
  maxInFlight?: number;
  /** A new secret; the previous one still signs for `overlapHours`. */
  secret: string | null;
  overlapHours: number;
}

/** Applies the change; enabling again clears a disable and the failure state, and retries at once. */
export async function updateEndpoint(db: Database, tenantId: string, id: string, change: EndpointChange): Promise<EndpointRow> {
  return db.one<EndpointRow>(
    `UPDATE webhook_endpoints SET url = coalesce($3, url), events = coalesce($4::text[], events), enabled = coalesce($5, enabled),
            disabled_reason = CASE WHEN $5 THEN NULL ELSE disabled_reason END,
            failing_since = CASE WHEN $5 THEN NULL ELSE failing_since END,
            attempts = CASE WHEN $5 THEN 0 ELSE attempts END, next_attempt_at = CASE WHEN $5 THEN NULL ELSE next_attempt_at END,
            previous_secret = CASE WHEN $6::text IS NULL THEN previous_secret ELSE secret END,
            previous_secret_until = CASE WHEN $6::text IS NULL THEN previous_secret_until ELSE now() + $7 * interval '1 hour' END,
            secret = coalesce($6, secret), max_in_flight = coalesce($8, max_in_flight)
      WHERE tenant_id = $1 AND id = $2 RETURNING ${ENDPOINT_COLUMNS}`,
    [
      tenantId,
      id,
      change.url ?? null,
      change.events ?? null,
      change.enabled ?? null,
      change.secret,
      change.overlapHours,
      change.maxInFlight ?? null,
    ],
  );
}
