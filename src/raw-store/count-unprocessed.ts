// The waiting quotas' query: how many of a tenant's documents are not processed yet, and their bytes.
import type { Collection } from 'mongodb';
import { withinAcceptDeadline } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';

export interface Unprocessed {
  documents: number;
  /** The sum of their `bytes` (payloads as stored; documents of earlier releases count 0). */
  bytes: number;
}

/**
 * Counts up to `limit` documents (the count stops there; their bytes are those of the documents counted).
 * The filter is `waiting_by_tenant`'s partial filter plus its first key, so the walk is that index's keys
 * of this tenant; the sum reads each document's `bytes` with them (no index holds it: one more index on
 * every insert would cost the accept path, where this runs at most once a second per tenant, in the
 * background, see tenant-quotas.ts). Dead documents are counted too (they wait for an operator). Asked on
 * the accept path, so within its deadline.
 */
export async function countUnprocessed(raw: Collection<RawTransaction>, tenantId: string, limit: number): Promise<Unprocessed> {
  try {
    const [sum] = await withinAcceptDeadline((bound) =>
      raw
        .aggregate<Unprocessed>(
          [
            { $match: { tenantId, processed: false } },
            { $limit: limit },
            { $group: { _id: null, documents: { $sum: 1 }, bytes: { $sum: '$bytes' } } },
          ],
          bound,
        )
        .toArray(),
    );
    return { documents: sum?.documents ?? 0, bytes: sum?.bytes ?? 0 };
  } catch (error) {
    throw classifyMongoError(error);
  }
}
