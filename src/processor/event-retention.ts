// Events are kept EVENTS_RETENTION_DAYS for clients to re-read the feed; processors delete older ones every
// ten minutes (pg-store/delete-old-events.ts, ten thousand at a time).
import type { Logger } from '../config/logger.js';
import type { Database } from '../db/postgres.js';
import { deleteOldEvents } from '../pg-store/delete-old-events.js';
import { runEvery } from '../schedule/run-every.js';

const EVERY_MS = 10 * 60_000;

export function startEventRetention(db: Database, days: number, logger: Logger): { stop(): Promise<void> } {
  return runEvery(EVERY_MS, () =>
    deleteOldEvents(db, days)
      .then((deleted) => deleted > 0 && logger.info({ component: 'events', deleted, days }, 'old events deleted'))
      .catch((error: Error) => logger.warn({ component: 'events', err: error }, 'deleting old events failed; next time')),
  );
}
