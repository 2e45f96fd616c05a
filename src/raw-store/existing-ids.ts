// Whether rows' raw documents still exist, for reconciliation: a row whose document is gone before retention
// could have removed it is a mismatch.
import type { Collection } from 'mongodb';
import { MONGO_DEADLINES_MS, withinDeadline } from '../db/mongo.js';
import type { RawTransaction } from './collections.js';
import { objectIdsOf } from './find-by-ids.js';

/** Which of these ids still have a document (retention removes processed ones), within `ms`. */
export async function existingIds(
  raw: Collection<RawTransaction>,
  ids: readonly string[],
  ms: number = MONGO_DEADLINES_MS.reconcile,
): Promise<Set<string>> {
  const objectIds = objectIdsOf(ids);
  const found = await withinDeadline(ms, (bound) => raw.find({ _id: { $in: objectIds } }, { projection: { _id: 1 }, ...bound }).toArray());
  return new Set(found.map((doc) => doc._id.toHexString()));
}
