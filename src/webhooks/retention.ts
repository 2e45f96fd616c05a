// Delivery attempts and done resends are kept EVENTS_RETENTION_DAYS, like the events they name; deliverers
// delete older ones every ten minutes, ten thousand at a time.
import type { Database } from '../db/postgres.js';
import { deleteOldDeliveries } from '../pg-store/delete-old-deliveries.js';
import { runEvery } from '../schedule/run-every.js';
import type { WebhookEvents } from './events.js';

const EVERY_MS = 10 * 60_000;

export function startDeliveryRetention(db: Database, days: number, events: WebhookEvents): { stop(): Promise<void> } {
  return runEvery(EVERY_MS, () =>
    deleteOldDeliveries(db, days)
      .then((deleted) => void events.emit('retention-ran', { deleted, days }))
      .catch((error: Error) => void events.emit('retention-failed', { error })),
  );
}
