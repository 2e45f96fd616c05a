// Leases raw documents to one worker: a single updateMany sets a fresh token on those still
// unprocessed and not leased by a live worker, then the documents carrying the token are read back.
// Each document update is atomic, so of two racing workers only one sets its token on a document.
import { randomUUID } from 'node:crypto';
import { ObjectId, type Collection, type Filter } from 'mongodb';
import type { RawTransaction } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';

export interface ClaimedRaw {
  id: string;
  attempts: number;
  receivedAt: Date;
  raw: RawTransaction;
}

/** Documents a worker may take: not done, not dead-lettered, and not under someone's unexpired lease. */
export function claimableFilter(now: Date): Filter<RawTransaction> {
  return {
    processed: false,
    status: { $in: ['pending', 'failed'] },
    $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }],
  };
}

export async function claimBatch(raw: Collection<RawTransaction>, ids: string[], { worker, leaseMs }: { worker: string; leaseMs: number }): Promise<ClaimedRaw[]> {
  const leaseToken = randomUUID();
  const now = new Date();
  try {
    await raw.updateMany(
      { _id: { $in: ids.map((id) => new ObjectId(id)) }, ...claimableFilter(now) },
      { $set: { leaseOwner: worker, leaseUntil: new Date(now.getTime() + leaseMs), leaseToken } },
    );
    const docs = await raw.find({ leaseToken }).toArray();
    return docs.map((doc) => ({ id: doc._id.toHexString(), attempts: doc.attempts ?? 0, receivedAt: doc.receivedAt, raw: doc }));
  } catch (error) {
    throw classifyMongoError(error);
  }
}

/** Gives back leases this worker still holds (at shutdown), so another worker need not wait them out. */
export async function releaseLeases(raw: Collection<RawTransaction>, ids: string[], worker: string): Promise<number> {
  if (ids.length === 0) return 0;
  const { modifiedCount } = await raw.updateMany(
    { _id: { $in: ids.map((id) => new ObjectId(id)) }, leaseOwner: worker, processed: false },
    { $set: { leaseOwner: null, leaseUntil: null, leaseToken: null } },
  );
  return modifiedCount;
}
