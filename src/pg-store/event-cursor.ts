// Where an event stands in the feed, for GET /api/v1/events?after= to resume from it.
import type { Database } from '../db/postgres.js';
import { readClassified } from '../db/postgres-errors.js';
import type { FeedCursor } from './read-events.js';

/** Where an event of this tenant stands in the feed, or null. */
export async function cursorOf(db: Database, tenantId: string, eventId: string): Promise<FeedCursor | null> {
  return readClassified(() =>
    db.oneOrNone<FeedCursor>('SELECT txid::text, seq::text FROM events WHERE tenant_id = $1 AND id = $2', [tenantId, eventId]),
  );
}
