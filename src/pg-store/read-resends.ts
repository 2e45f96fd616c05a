// The resends an admin asked for on an endpoint and a deliverer has not sent yet.
import type { Database } from '../db/postgres.js';

/** Up to `limit` resends waiting, oldest first. */
export async function readResends(db: Database, endpointId: string, limit: number) {
  return db.any<{ id: string; event_id: string }>(
    'SELECT id::text, event_id FROM webhook_resends WHERE endpoint_id = $1 AND done_at IS NULL ORDER BY id LIMIT $2',
    [endpointId, limit],
  );
}
