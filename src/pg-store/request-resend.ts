// An admin asks for one event to be sent to an endpoint again: kept until a deliverer's next turn sends it.
import type { Database } from '../db/postgres.js';

/** Records the resend of a tenant's event; null when the tenant has no such event (or it is no longer kept). */
export async function requestResend(db: Database, tenantId: string, endpointId: string, eventId: string) {
  const event = await db.oneOrNone('SELECT 1 FROM events WHERE tenant_id = $1 AND id = $2', [tenantId, eventId]);
  if (!event) return null;
  return db.one<{ id: string; requested_at: Date }>(
    'INSERT INTO webhook_resends (endpoint_id, event_id) VALUES ($1, $2) RETURNING id::text, requested_at',
    [endpointId, eventId],
  );
}
