// Delivery attempts and done resends are kept EVENTS_RETENTION_DAYS, like the events they name.
import type { Database } from '../db/postgres.js';
import { deleteInChunks } from './delete-in-chunks.js';

/** Deletes the attempts and done resends older than `days`; returns how many attempts. */
export async function deleteOldDeliveries(db: Database, days: number): Promise<number> {
  const deleted = await deleteInChunks(
    db,
    `DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries WHERE at < now() - $1 * interval '1 day' LIMIT $2)`,
    [days],
  );
  await db.none(`DELETE FROM webhook_resends WHERE done_at < now() - $1 * interval '1 day'`, [days]);
  return deleted;
}
