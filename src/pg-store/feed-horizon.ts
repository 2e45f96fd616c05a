// The events feed's horizon: events recorded by transactions older than it are visible to readers. A deliverer
// compares it between looks, since a look while it has not moved would find nothing new.
import type { Database } from '../db/postgres.js';

/** The oldest transaction still running (pg_snapshot_xmin), as text. */
export async function feedHorizon(db: Database): Promise<string> {
  return db.one('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS h', [], (r: { h: string }) => r.h);
}
