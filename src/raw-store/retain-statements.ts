// A statement is kept until its last entry is gone: its entries are stored without their account, which it
// holds. Whenever an entry settles, dies or is replayed, its statement's retention starts again from then.
import type { Collection, ObjectId } from 'mongodb';
import type { Bound } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction, StatementFile } from './collections.js';

/**
 * Moves `retainFrom` of the statements of `docs` to `at` (never back), in one update; documents of other
 * sources need none. Called before the entries' own mark, with the mark's time: an entry's retention
 * (RETENTION_PROCESSED_SECONDS, RETENTION_DEAD_SECONDS) then never ends after its statement's
 * (RETENTION_STATEMENTS_SECONDS, at least both), and a failed mark only keeps a statement longer.
 */
export async function retainStatements(
  statements: Collection<StatementFile>,
  docs: Array<Pick<RawTransaction, 'statementId'>>,
  at: Date,
  bound?: Bound,
): Promise<void> {
  const ids = new Map<string, ObjectId>();
  for (const doc of docs) if (doc.statementId) ids.set(doc.statementId.toHexString(), doc.statementId);
  if (ids.size === 0) return;
  try {
    await statements.updateMany({ _id: { $in: [...ids.values()] } }, { $max: { retainFrom: at } }, { ...bound });
  } catch (error) {
    throw classifyMongoError(error);
  }
}
