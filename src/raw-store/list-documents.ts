// A page of the failed and dead documents an operator selected, newest first, with a keyset cursor on _id
// (an ObjectId grows with time), so any page costs the same.
import { type Collection, ObjectId } from 'mongodb';
import type { Bound } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';
import { type Selection, selectionFilter } from './selection.js';
import { type RawStatusView, toRawStatus } from './status-view.js';

export interface DocumentPage {
  data: Array<RawStatusView & { tenantId: string }>;
  /** Pass as `before` for the next page; null on the last one. */
  nextBefore: string | null;
}

export async function listDocuments(
  raw: Collection<RawTransaction>,
  selection: Selection,
  { limit, before }: { limit: number; before?: string },
  bound?: Bound,
): Promise<DocumentPage> {
  const filter = selectionFilter(selection);
  if (before) filter._id = { ...(filter._id as object), $lt: new ObjectId(before) };
  try {
    const docs = await raw.find(filter, { sort: { _id: -1 }, limit: limit + 1, projection: { payload: 0 }, ...bound }).toArray();
    const page = docs.slice(0, limit);
    return {
      data: page.map((doc) => ({ ...toRawStatus(doc), tenantId: doc.tenantId })),
      nextBefore: docs.length > limit ? page.at(-1)!._id.toHexString() : null,
    };
  } catch (error) {
    throw classifyMongoError(error);
  }
}
