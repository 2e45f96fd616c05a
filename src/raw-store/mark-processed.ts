// Records in MongoDB that a batch's rows are committed in PostgreSQL. Runs only after the commit, so a
// crash in between leaves the documents unprocessed and the replay is absorbed by ON CONFLICT.

import { type Collection, ObjectId } from 'mongodb';
import type { Bound } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';
import { NO_LEASE } from './states.js';

export async function markProcessed(raw: Collection<RawTransaction>, ids: string[], now = new Date(), bound?: Bound): Promise<void> {
  try {
    await raw.updateMany(
      { _id: { $in: ids.map((id) => new ObjectId(id)) } },
      {
        $set: {
          processed: true,
          status: 'processed',
          processedAt: now,
          ...NO_LEASE,
          lastError: null,
        },
      },
      { ...bound },
    );
  } catch (error) {
    throw classifyMongoError(error);
  }
}
