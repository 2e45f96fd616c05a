// Gives back leases a worker still holds (at shutdown), so another worker need not wait them out.
import { type Collection, ObjectId } from 'mongodb';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';
import { NO_LEASE } from './states.js';

export async function releaseLeases(raw: Collection<RawTransaction>, ids: string[], worker: string): Promise<number> {
  if (ids.length === 0) return 0;
  try {
    const { modifiedCount } = await raw.updateMany(
      { _id: { $in: ids.map((id) => new ObjectId(id)) }, leaseOwner: worker, processed: false },
      { $set: NO_LEASE },
    );
    return modifiedCount;
  } catch (error) {
    throw classifyMongoError(error);
  }
}
