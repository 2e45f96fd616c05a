// The raw_transactions adapter on the ingestion side: one insert, classified errors.
import { MongoError, ObjectId, MongoNetworkError, MongoServerSelectionError, type Collection } from 'mongodb';
import { PermanentError, TransientError } from '../errors.js';
import type { RawTransaction } from '../db/mongo.js';
import type { Accepted, Envelope, Ingest } from './envelope.js';
import { toRawStatus } from './raw-status.js';

/** Errors the client cannot fix and a retry could: the server is unreachable or stepping down. */
export function classifyMongoError(error: unknown): Error {
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) {
    return new TransientError('mongo_unavailable', 'MongoDB is unavailable', { cause: error });
  }
  if (error instanceof MongoError && (error.hasErrorLabel('RetryableWriteError') || error.hasErrorLabel('TransientTransactionError'))) {
    return new TransientError('mongo_retryable', 'MongoDB asked for a retry', { cause: error });
  }
  if (error instanceof MongoError) return new PermanentError('mongo_rejected', 'MongoDB rejected the document', { cause: error });
  return error instanceof Error ? error : new Error(String(error));
}

export function newRawTransaction(tenantId: string, envelope: Envelope, receivedAt = new Date()): Omit<RawTransaction, '_id'> {
  return {
    tenantId,
    source: envelope.source,
    externalId: envelope.externalId ?? null,
    payload: envelope.payload,
    receivedAt,
    processed: false,
    status: 'pending',
    attempts: 0,
  };
}

/** In-process ingestion: validate nothing more, store, return the id. */
export function createMongoIngest(raw: Collection<RawTransaction>): Ingest {
  return {
    async accept(tenantId, envelope): Promise<Accepted> {
      try {
        const { insertedId } = await raw.insertOne(newRawTransaction(tenantId, envelope) as RawTransaction);
        return { id: insertedId.toHexString() };
      } catch (error) {
        throw classifyMongoError(error);
      }
    },
    async status(tenantId, id) {
      try {
        const doc = await raw.findOne({ _id: new ObjectId(id), tenantId });
        return doc ? toRawStatus(doc) : undefined;
      } catch (error) {
        throw classifyMongoError(error);
      }
    },
  };
}
