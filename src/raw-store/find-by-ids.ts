// Raw documents read back by id, for reconciliation: the revisions of a provider object that a row was built
// from, when they are not among the documents it is walking.

import type { Collection } from 'mongodb';
import { ObjectId } from 'mongodb';
import { iterateWithin, MONGO_DEADLINES_MS } from '../db/mongo.js';
import type { RawTransaction } from './collections.js';

/** The ObjectIds among these ids; any other id (a row's raw_id of another shape) names no raw document. */
export const objectIdsOf = (ids: readonly string[]) =>
  ids.filter((id) => id.length === 24 && ObjectId.isValid(id)).map((id) => new ObjectId(id));

/** The documents with these ids that exist, whole, each wait for the server within `stepMs`. */
export async function findDocumentsByIds(
  raw: Collection<RawTransaction>,
  ids: readonly string[],
  stepMs: number = MONGO_DEADLINES_MS.reconcile,
): Promise<RawTransaction[]> {
  const found: RawTransaction[] = [];
  const objectIds = objectIdsOf(ids);
  if (objectIds.length === 0) return found;
  for await (const doc of iterateWithin(stepMs, (bound) => raw.find({ _id: { $in: objectIds } }, bound))) found.push(doc);
  return found;
}
