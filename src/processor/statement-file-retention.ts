// Statement files (GridFS) go RETENTION_STATEMENTS_SECONDS after their upload (the statements documents by a
// TTL index, once their entries are gone); chunks have no date a TTL index could read, so processors sweep.
import type { Db } from 'mongodb';
import type { Logger } from '../config/logger.js';
import { removeExpiredStatementFiles } from '../raw-store/remove-expired-statement-files.js';
import { runEvery } from '../schedule/run-every.js';

/**
 * At start, then every ten minutes, or twice per retention when that is shorter (at most every second). Every
 * processor runs it, as events retention: the deletes are idempotent, and a round that finds nothing is one
 * indexed find.
 */
export const sweepEveryMs = (retentionSeconds: number) => Math.min(600_000, Math.max(1_000, retentionSeconds * 500));

export async function startStatementFileRetention(db: Db, retentionSeconds: number, logger: Logger): Promise<{ stop(): Promise<void> }> {
  // 0: kept for ever.
  if (retentionSeconds === 0) return { stop: async () => undefined };
  const sweep = () =>
    removeExpiredStatementFiles(db, new Date(Date.now() - retentionSeconds * 1000))
      .then((removed) => removed > 0 && logger.info({ component: 'retention', removed }, 'expired statement files removed'))
      .catch((error: Error) => logger.warn({ component: 'retention', err: error }, 'removing expired statement files failed; next time'));
  // Once at start too: a processor restarted more often than every ten minutes still sweeps.
  const first = sweep();
  const every = runEvery(sweepEveryMs(retentionSeconds), sweep);
  return {
    async stop() {
      await every.stop();
      await first;
    },
  };
}
