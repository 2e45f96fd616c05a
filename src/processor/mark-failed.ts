// Records a document that could not be processed: its attempt count, the reason, and when it may be
// retried (the lease is pushed out by a backoff, so the sweep leaves it alone until then). A document
// out of attempts is dead-lettered: status "dead", never claimed again until replayed.
import { ObjectId, type AnyBulkWriteOperation, type Collection } from 'mongodb';
import type { RawTransaction } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import { backoffDelay } from '../streams/backoff.js';

export interface FailedDoc {
  id: string;
  attempts: number;
  outcome: 'failed' | 'dead';
  error: string;
}

export async function markFailed(
  raw: Collection<RawTransaction>,
  failures: FailedDoc[],
  { retryBaseMs, retryMaxMs, now = new Date() }: { retryBaseMs: number; retryMaxMs: number; now?: Date },
): Promise<void> {
  const operations: Array<AnyBulkWriteOperation<RawTransaction>> = failures.map((failure) => ({
    updateOne: {
      filter: { _id: new ObjectId(failure.id), processed: false },
      update: {
        $set: {
          status: failure.outcome,
          lastError: failure.error.slice(0, 2_000),
          leaseOwner: null,
          leaseToken: null,
          leaseUntil: failure.outcome === 'dead' ? null : new Date(now.getTime() + backoffDelay(failure.attempts + 1, { baseMs: retryBaseMs, maxMs: retryMaxMs })),
        },
        $inc: { attempts: 1 },
      },
    },
  }));
  try {
    if (operations.length > 0) await raw.bulkWrite(operations, { ordered: false });
  } catch (error) {
    throw classifyMongoError(error);
  }
}
