// Events are kept EVENTS_RETENTION_DAYS for clients to re-read the feed; older ones are deleted in chunks.
import type { Database } from '../db/postgres.js';
import { deleteInChunks } from './delete-in-chunks.js';

/** Deletes the events older than `days`; returns how many. */
export function deleteOldEvents(db: Database, days: number): Promise<number> {
  return deleteInChunks(
    db,
    `DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE created < now() - $1 * interval '1 day' LIMIT $2)`,
    [days],
  );
}
