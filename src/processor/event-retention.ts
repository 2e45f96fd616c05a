// Events are kept EVENTS_RETENTION_DAYS for clients to re-read the feed; processors delete older ones every
// ten minutes, ten thousand at a time so that no statement holds many locks or runs long.
import type { Logger } from '../config/logger.js';
import type { Database } from '../db/postgres.js';
import { runEvery } from '../schedule/run-every.js';

const EVERY_MS = 10 * 60_000;
const CHUNK = 10_000;

/**
 * Deletes the rows a statement selects, `CHUNK` at a time (the statement takes the chunk size as its last
 * parameter), until a chunk comes back short; returns how many.
 */
export async function deleteInChunks(db: Database, sql: string, values: unknown[]): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await db.result(sql, [...values, CHUNK]);
    deleted += rowCount;
    if (rowCount < CHUNK) return deleted;
  }
}

/** Deletes the events older than `days`; returns how many. */
export function deleteOldEvents(db: Database, days: number): Promise<number> {
  return deleteInChunks(
    db,
    `DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE created < now() - $1 * interval '1 day' LIMIT $2)`,
    [days],
  );
}

export function startEventRetention(db: Database, days: number, logger: Logger): { stop(): Promise<void> } {
  return runEvery(EVERY_MS, () =>
    deleteOldEvents(db, days)
      .then((deleted) => deleted > 0 && logger.info({ component: 'events', deleted, days }, 'old events deleted'))
      .catch((error: Error) => logger.warn({ component: 'events', err: error }, 'deleting old events failed; next time')),
  );
}
