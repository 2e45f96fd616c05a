// transaction.failed and .dead events: a failure is recorded in MongoDB (often because PostgreSQL failed), so
// its event waits on the outcome's log entry and is copied into PostgreSQL every second once it can be.
import type { Logger } from '../config/logger.js';
import type { Database } from '../db/postgres.js';
import { eventIdOf, insertEvents } from '../pg-store/insert-events.js';
import type { MongoCollections } from '../raw-store/collections.js';
import { clearPendingFailureEvents, pendingFailureEvents } from '../raw-store/pending-failure-events.js';
import { runEvery } from '../schedule/run-every.js';

const EVERY_MS = 1_000;
const PAGE = 500;

/** Records a page of pending failure events; returns how many entries it settled. */
export async function relayFailureEvents(mongo: MongoCollections, db: Database): Promise<number> {
  const { events, keys } = await pendingFailureEvents(mongo.logs, mongo.raw, PAGE);
  if (keys.length === 0) return 0;
  const rows = events.map((e) => {
    const type = e.outcome === 'dead' ? ('transaction.dead' as const) : ('transaction.failed' as const);
    return { id: eventIdOf(type, e.key), tenant_id: e.tenantId, type, raw_id: e.document.id, created: e.at, data: e.document };
  });
  await insertEvents(db, rows);
  await clearPendingFailureEvents(mongo.logs, keys);
  return keys.length;
}

export function startFailureEventRelay(mongo: MongoCollections, db: Database, logger: Logger): { stop(): Promise<void> } {
  let warned = false;
  return runEvery(EVERY_MS, async () => {
    try {
      while ((await relayFailureEvents(mongo, db)) === PAGE);
      warned = false;
    } catch (error) {
      // PostgreSQL (or MongoDB) unavailable: the entries wait; said once per outage.
      if (!warned) logger.warn({ component: 'events', err: error }, 'failure events wait: cannot record them now');
      warned = true;
    }
  });
}
