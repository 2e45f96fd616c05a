// Puts dead-lettered documents back in line, after their cause is fixed (a new mapper, a corrected
// currency list): attempts start again from zero; their earlier outcomes stay in processing_logs.
import { ObjectId, type Collection, type Filter } from 'mongodb';
import type { RawTransaction } from '../db/mongo.js';

export async function replayDead(raw: Collection<RawTransaction>, { ids, tenantId }: { ids?: string[]; tenantId?: string } = {}): Promise<number> {
  const filter: Filter<RawTransaction> = { status: 'dead', processed: false };
  if (ids?.length) filter._id = { $in: ids.map((id) => new ObjectId(id)) };
  if (tenantId) filter.tenantId = tenantId;
  const { modifiedCount } = await raw.updateMany(filter, {
    $set: { status: 'pending', attempts: 0, leaseOwner: null, leaseUntil: null, leaseToken: null },
  });
  return modifiedCount;
}
