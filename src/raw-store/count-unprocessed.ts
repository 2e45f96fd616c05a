// The waiting-documents quota's query: how many of a tenant's documents are not processed yet.
import type { Collection } from 'mongodb';
import { withinAcceptDeadline } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';

/**
 * Counts up to `limit` (the count stops there). The filter is `waiting_by_tenant`'s partial filter plus its
 * first key, so mongod counts index keys alone, no document; dead documents are counted too (they wait for
 * an operator). Asked on the accept path, so within its deadline.
 */
export async function countUnprocessed(raw: Collection<RawTransaction>, tenantId: string, limit: number): Promise<number> {
  try {
    return await withinAcceptDeadline((bound) => raw.countDocuments({ tenantId, processed: false }, { limit, ...bound }));
  } catch (error) {
    throw classifyMongoError(error);
  }
}
