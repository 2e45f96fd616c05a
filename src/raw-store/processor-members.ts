// The processors of a group, for sharing the hash slots: each renews its entry (a lease on its share)
// every few hundred milliseconds, a clean stop removes it, a killed one drops out when its lease lapses.
import type { Collection } from 'mongodb';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { ProcessorMember } from './collections.js';

/** Renews this worker's lease and answers the group's members whose lease holds, in id order. */
export async function renewMembership(
  members: Collection<ProcessorMember>,
  { workerId, group, leaseMs, now = new Date() }: { workerId: string; group: string; leaseMs: number; now?: Date },
): Promise<string[]> {
  try {
    await members.updateOne({ _id: workerId }, { $set: { group, seenAt: now } }, { upsert: true });
    const live = await members
      .find({ group, seenAt: { $gt: new Date(now.getTime() - leaseMs) } }, { projection: { _id: 1 } })
      .sort({ _id: 1 })
      .toArray();
    return live.map((member) => member._id);
  } catch (error) {
    throw classifyMongoError(error);
  }
}

/** Gives this worker's slots up at once (a clean stop), rather than when its lease lapses. */
export async function leaveGroup(members: Collection<ProcessorMember>, workerId: string): Promise<void> {
  await members.deleteOne({ _id: workerId });
}
