// Resends sent (or recorded as failed): each is done once, never retried.
import type { Database } from '../db/postgres.js';

export async function finishResends(db: Database, ids: string[]): Promise<void> {
  await db.none('UPDATE webhook_resends SET done_at = clock_timestamp() WHERE id = ANY($1::bigint[])', [ids]);
}
