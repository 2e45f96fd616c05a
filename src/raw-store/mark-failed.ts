// Records a document that could not be processed: attempts, reason, and when it may be retried (its lease
// pushed out to then); out of attempts it is dead, never claimed again until replayed.

import { type AnyBulkWriteOperation, type Collection, ObjectId } from 'mongodb';
import type { Bound } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';

export interface FailedDoc {
  id: string;
  outcome: 'failed' | 'dead';
  error: string;
  /** When a failed document may be claimed again; ignored for a dead one. */
  retryAt: Date;
  /**
   * The claim's lease token: the mark applies only while the document still carries it, so a retried mark
   * (its first attempt applied, its answer lost) charges no second attempt, and a lease that expired and was
   * taken by another worker is left to that worker.
   */
  leaseToken?: string | null;
}

export async function markFailed(raw: Collection<RawTransaction>, failures: FailedDoc[], bound?: Bound, now = new Date()): Promise<void> {
  const operations: Array<AnyBulkWriteOperation<RawTransaction>> = failures.map((failure) => ({
    updateOne: {
      filter: {
        _id: new ObjectId(failure.id),
        processed: false,
        ...(failure.leaseToken === undefined ? {} : { leaseToken: failure.leaseToken }),
      },
      update: {
        $set: {
          status: failure.outcome,
          lastError: failure.error.slice(0, 2_000),
          leaseOwner: null,
          leaseToken: null,
          leaseUntil: failure.outcome === 'dead' ? null : failure.retryAt,
          // Dead documents' retention counts from here (RETENTION_DEAD_SECONDS, collections.ts).
          ...(failure.outcome === 'dead' ? { deadAt: now } : {}),
        },
        $inc: { attempts: 1 },
      },
    },
  }));
  try {
    if (operations.length > 0) await raw.bulkWrite(operations, { ordered: false, ...bound });
  } catch (error) {
    throw classifyMongoError(error);
  }
}
