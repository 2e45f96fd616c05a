// statement.processed: an uploaded camt.053 file whose every entry is processed. Its entries are processed in
// batches of their own, so the processors look at the waiting statements every few seconds.
import type { Logger } from '../config/logger.js';
import { MONGO_DEADLINES_MS } from '../db/mongo.js';
import type { Database } from '../db/postgres.js';
import { eventIdOf, insertEvents } from '../pg-store/insert-events.js';
import type { MongoConnection } from '../raw-store/collections.js';
import { clearPendingStatementEvent, pendingStatementEvents } from '../raw-store/pending-statement-events.js';
import { findStatementStatus } from '../raw-store/statement-status.js';
import { runEvery } from '../schedule/run-every.js';

const EVERY_MS = 5_000;
const PAGE = 100;

/** Records the event of each waiting statement now processed; clears those settled. Returns how many it looked at. */
export async function recordStatementEvents(mongo: MongoConnection, db: Database): Promise<number> {
  const pending = await pendingStatementEvents(mongo, PAGE);
  for (const { id, tenantId } of pending) {
    // Its status is all the event needs: no entry is read.
    const status = await findStatementStatus(
      mongo,
      tenantId,
      id.toHexString(),
      { start: 0, limit: 0 },
      { deadlineMs: MONGO_DEADLINES_MS.processor },
    );
    if (status?.status === 'pending') continue;
    if (status?.status === 'processed') {
      const { entries: _entries, ...data } = status;
      await insertEvents(db, [
        { id: eventIdOf('statement.processed', status.id), tenant_id: tenantId, type: 'statement.processed', raw_id: status.id, data },
      ]);
    }
    // Processed (recorded), failed (an entry dead: its transaction.dead says so) or gone: nothing more to wait for.
    await clearPendingStatementEvent(mongo, id);
  }
  return pending.length;
}

export function startStatementEvents(mongo: MongoConnection, db: Database, logger: Logger): { stop(): Promise<void> } {
  return runEvery(EVERY_MS, () =>
    recordStatementEvents(mongo, db).catch((error: Error) =>
      logger.warn({ component: 'events', err: error }, 'statement events wait: cannot record them now'),
    ),
  );
}
