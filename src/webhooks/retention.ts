// Delivery attempts and done resends are kept EVENTS_RETENTION_DAYS, like the events they name; deliverers
// delete older ones every ten minutes, ten thousand at a time.
import type { Logger } from '../config/logger.js';
import type { Database } from '../db/postgres.js';
import { deleteInChunks } from '../processor/event-retention.js';
import { runEvery } from '../schedule/run-every.js';

const EVERY_MS = 10 * 60_000;

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

export function startDeliveryRetention(db: Database, days: number, logger: Logger): { stop(): Promise<void> } {
  return runEvery(EVERY_MS, () =>
    deleteOldDeliveries(db, days)
      .then((deleted) => deleted > 0 && logger.info({ component: 'webhooks', deleted, days }, 'old delivery attempts deleted'))
      .catch((error: Error) => logger.warn({ component: 'webhooks', err: error }, 'deleting old delivery attempts failed; next time')),
  );
}
