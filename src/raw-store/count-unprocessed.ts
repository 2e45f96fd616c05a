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
 * Counts up to `limit` documents (the count stops there), and with `withBytes` sums their bytes. The filter
 * is `waiting_by_tenant`'s partial filter plus its first key, so the walk is that index's keys of this tenant:
 * without the sum mongod counts keys alone (the count of earlier releases); the sum reads each document's
 * `bytes` with them (no index holds it: one more index on every insert would cost the accept path), so the
 * quotas ask for it only as often as the byte cap needs (tenant-quotas.ts). Dead documents are counted too
 * (they wait for an operator). Asked on the accept path, so within its deadline.
 */
export async function countUnprocessed(
  raw: Collection<RawTransaction>,
  tenantId: string,
  limit: number,
  withBytes = true,
): Promise<Unprocessed> {
  try {
    if (!withBytes) {
      const documents = await withinAcceptDeadline((bound) => raw.countDocuments({ tenantId, processed: false }, { limit, ...bound }));
      return { documents, bytes: 0 };
    }
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
