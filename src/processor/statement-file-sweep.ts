// Failed uploads a client never sent again: their files are removed after an hour, by one processor or
// another (each removal under the statement's lease, so two never collide).
import type { Logger } from '../config/logger.js';
import type { StatementCollections } from '../raw-store/collections.js';
import { removeAbandonedFiles } from '../raw-store/remove-abandoned-files.js';
import { runEvery } from '../schedule/run-every.js';

const EVERY_MS = 60_000;
/** An incomplete upload older than this, and not being stored, has its file removed (docs/model.md). */
export const ABANDONED_AFTER_MS = 3_600_000;

export function startStatementFileSweep(store: StatementCollections, logger: Logger): { stop(): Promise<void> } {
  return runEvery(EVERY_MS, async () => {
    try {
      const removed = await removeAbandonedFiles(store, { olderThan: new Date(Date.now() - ABANDONED_AFTER_MS) });
      if (removed > 0) logger.info({ component: 'statements', removed }, 'files of abandoned statement uploads removed');
    } catch (error) {
      logger.warn({ component: 'statements', err: error }, 'abandoned statement files: cannot remove them now');
    }
  });
}
