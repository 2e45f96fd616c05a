// Leases raw documents to one worker: a single updateMany sets a fresh token on those still claimable,
// then the documents carrying the token are read back. Each document update is atomic, so of two racing
// workers only one sets its token on a document.
import { randomUUID } from 'node:crypto';
import { type Collection, ObjectId } from 'mongodb';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';
import { claimableFilter } from './states.js';

export interface ClaimedRaw {
  id: string;
  attempts: number;
  receivedAt: Date;
  raw: RawTransaction;
}

export async function claimBatch(
  raw: Collection<RawTransaction>,
  ids: string[],
  { worker, leaseMs }: { worker: string; leaseMs: number },
): Promise<ClaimedRaw[]> {
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
