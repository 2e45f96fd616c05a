// The sweep's query: the oldest claimable documents, ids only.
import type { Collection } from 'mongodb';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';
import { claimableFilter } from './states.js';

export async function findWaitingIds(raw: Collection<RawTransaction>, limit: number, now = new Date()): Promise<string[]> {
  try {
    const docs = await raw.find(claimableFilter(now), { projection: { _id: 1 }, sort: { _id: 1 }, limit }).toArray();
    return docs.map((doc) => doc._id.toHexString());
  } catch (error) {
    throw classifyMongoError(error);
  }
}
