// Sets processed documents back to failed, by hand: the way out when reconciliation finds a document marked
// processed whose row is gone (processed-without-row). The processor then claims it like any failed document
// and writes its row again (the write is idempotent: a row that does exist is found, not doubled).
import { type Collection, ObjectId } from 'mongodb';
import type { Bound } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction, StatementFile } from './collections.js';
import { retainStatements } from './retain-statements.js';
import { NO_LEASE } from './states.js';

export interface FailProcessedResult {
  /** The ids set back to failed. */
  failed: string[];
  /** The ids given that name no processed document (unknown, or not processed): left as they are. */
  skipped: string[];
}

/**
 * Each processed document of `ids` becomes failed with `reason` as its last error, attempts 0 and no lease,
 * so the next sweep claims it; it leaves processed retention (no processedAt). Other documents are untouched.
 */
export async function failProcessed(
  raw: Collection<RawTransaction>,
  ids: string[],
  reason: string,
  { statements, now = new Date(), bound }: { statements?: Collection<StatementFile>; now?: Date; bound?: Bound } = {},
): Promise<FailProcessedResult> {
  const objectIds = ids.map((id) => new ObjectId(id));
  const processed = { _id: { $in: objectIds }, processed: true, status: 'processed' as const };
  try {
    const docs = await raw.find(processed, { projection: { _id: 1, statementId: 1 }, ...bound }).toArray();
    // An entry's statement holds its account: keep it at least as long as the entry's new attempts need it.
    if (statements) await retainStatements(statements, docs, now, bound);
    const lastError = `set back to failed by hand: ${reason}`.slice(0, 2_000);
    await raw.updateMany(
      { ...processed, _id: { $in: docs.map((doc) => doc._id) } },
      { $set: { processed: false, status: 'failed', attempts: 0, lastError, ...NO_LEASE }, $unset: { processedAt: '' } },
      { ...bound },
    );
    // What the update did, read back by this command's reason (a document removed or changed between the find
    // and the update is not reported as set back; one a processor has claimed since still carries the reason).
    const changed = await raw.find({ _id: { $in: docs.map((doc) => doc._id) }, lastError }, { projection: { _id: 1 }, ...bound }).toArray();
    const failed = new Set(changed.map((doc) => doc._id.toHexString()));
    return { failed: [...failed], skipped: ids.filter((id) => !failed.has(new ObjectId(id).toHexString())) };
  } catch (error) {
    throw classifyMongoError(error);
  }
}
