// An endpoint's delivery attempts, newest first, a page at a time by id, with each event's type while it is kept.
import type { Database } from '../db/postgres.js';
import type { EventType } from '../domain/events.js';
import type { AttemptRow } from './rows.js';

export type DeliveryRow = AttemptRow & { id: string; event_type: EventType | null; at: Date };

/** Up to `limit` attempts before the id `after` (none: the newest). */
export async function listDeliveries(db: Database, endpointId: string, after: string | null, limit: number): Promise<DeliveryRow[]> {
  return db.any<DeliveryRow>(
    `SELECT d.id::text, d.event_id, e.type AS event_type, d.attempt, d.status, d.error, d.duration_ms, d.delay_ms, d.resend, d.at
       FROM webhook_deliveries d LEFT JOIN events e ON e.id = d.event_id
      WHERE d.endpoint_id = $1 AND ($2::bigint IS NULL OR d.id < $2::bigint) ORDER BY d.id DESC LIMIT $3`,
    [endpointId, after, limit],
  );
}
