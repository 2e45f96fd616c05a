// The files of uploads that failed and were not sent again: an incomplete statement nobody is storing keeps
// its file (whole or partial) only until the sweep takes it, so a failed send costs no storage for long.
import { randomUUID } from 'node:crypto';
import type { Filter } from 'mongodb';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { StatementCollections, StatementFile } from './collections.js';
import { removeStatementFiles } from './statement-files.js';

/** How long the sweep's own lease on a statement lasts: a removal takes a few operations. */
const SWEEP_LEASE_MS = 60_000;

/**
 * Removes the files (and stray chunks) of at most `limit` statements received before `olderThan` and still
 * incomplete, whose lease no send holds. It takes each one's lease first, so a send that comes back meanwhile
 * waits (503) rather than finds its file removed under it; a send after the sweep writes the file again.
 * Swept statements are marked `abandoned` (a later send clears it) and not looked at again. Returns how many.
 */
export async function removeAbandonedFiles(
  store: StatementCollections,
  { olderThan, limit = 100, now = new Date() }: { olderThan: Date; limit?: number; now?: Date },
): Promise<number> {
  const free = { $or: [{ storing: null }, { 'storing.until': { $lte: now } }] };
  const filter: Filter<StatementFile> = { complete: false, abandoned: { $ne: true as const }, receivedAt: { $lt: olderThan }, ...free };
  let removed = 0;
  try {
    const stale = await store.statements.find(filter, { projection: { _id: 1 }, limit }).toArray();
    for (const { _id } of stale) {
      const token = randomUUID();
      const lease = { token, until: new Date(now.getTime() + SWEEP_LEASE_MS) };
      const { matchedCount } = await store.statements.updateOne({ _id, ...filter }, { $set: { storing: lease } });
      if (matchedCount === 0) continue;
      await removeStatementFiles(store.db, _id);
      await store.statements.updateOne(
        { _id, 'storing.token': token },
        { $set: { abandoned: true, fileBytes: 0 }, $unset: { storing: '' } },
      );
      removed++;
    }
  } catch (error) {
    throw classifyMongoError(error);
  }
  return removed;
}
