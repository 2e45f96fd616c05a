// Delivery attempts and done resends are kept EVENTS_RETENTION_DAYS, like the events they name; deliverers
// delete older ones every ten minutes, ten thousand at a time.
import type { Logger } from '../config/logger.js';
import type { Database } from '../db/postgres.js';
import { deleteOldDeliveries } from '../pg-store/delete-old-deliveries.js';
import { runEvery } from '../schedule/run-every.js';

const EVERY_MS = 10 * 60_000;

export function startDeliveryRetention(db: Database, days: number, logger: Logger): { stop(): Promise<void> } {
  return runEvery(EVERY_MS, () =>
    deleteOldDeliveries(db, days)
      .then((deleted) => deleted > 0 && logger.info({ component: 'webhooks', deleted, days }, 'old delivery attempts deleted'))
      .catch((error: Error) => logger.warn({ component: 'webhooks', err: error }, 'deleting old delivery attempts failed; next time')),
  );
}
