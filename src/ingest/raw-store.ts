// The raw_transactions adapter on the ingestion side: inserts, de-duplication on (tenant, source,
// externalId) through a unique index, classified errors.
import { MongoBulkWriteError, MongoServerError, ObjectId, type Collection } from 'mongodb';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from '../db/mongo.js';
import type { Accepted, Envelope, Ingest } from './envelope.js';
import { replay } from '../processor/replay.js';
import { toRawStatus } from './raw-status.js';

export const dedupKeyOf = (tenantId: string, source: string, externalId: string) => JSON.stringify([tenantId, source, externalId]);

export function newRawTransaction(tenantId: string, envelope: Envelope, receivedAt = new Date()): Omit<RawTransaction, '_id'> {
  return {
    tenantId,
    source: envelope.source,
    externalId: envelope.externalId ?? null,
    ...(envelope.externalId ? { dedupKey: dedupKeyOf(tenantId, envelope.source, envelope.externalId) } : {}),
    payload: envelope.payload,
    receivedAt,
    processed: false,
    status: 'pending',
    attempts: 0,
  };
}

const isDuplicateKey = (error: unknown) => error instanceof MongoServerError && error.code === 11000;

/** In-process ingestion: validate nothing more, store, return the id. */
export function createMongoIngest(raw: Collection<RawTransaction>): Ingest {
  /** The ids of documents already stored under these dedup keys. */
  async function existingIds(keys: string[]): Promise<Map<string, string>> {
    const docs = await raw.find({ dedupKey: { $in: keys } }, { projection: { _id: 1, dedupKey: 1 } }).toArray();
    return new Map(docs.map((doc) => [doc.dedupKey!, doc._id.toHexString()]));
  }

  return {
    async accept(tenantId, envelope): Promise<Accepted> {
      const doc = newRawTransaction(tenantId, envelope) as RawTransaction;
      try {
        const { insertedId } = await raw.insertOne(doc);
        return { id: insertedId.toHexString(), duplicate: false };
      } catch (error) {
        if (isDuplicateKey(error) && doc.dedupKey) {
          const id = (await existingIds([doc.dedupKey])).get(doc.dedupKey);
          if (id) return { id, duplicate: true };
        }
        throw classifyMongoError(error);
      }
    },

    async acceptMany(tenantId, envelopes) {
      if (envelopes.length === 0) return [];
      const receivedAt = new Date();
      const docs = envelopes.map((envelope) => ({ _id: new ObjectId(), ...newRawTransaction(tenantId, envelope, receivedAt) }) as RawTransaction);
      const failed = new Map<number, unknown>();
      try {
        await raw.insertMany(docs, { ordered: false, forceServerObjectId: false });
      } catch (error) {
        if (!(error instanceof MongoBulkWriteError)) throw classifyMongoError(error);
        for (const writeError of [error.writeErrors].flat()) failed.set(writeError.index, writeError);
        if (failed.size === 0) throw classifyMongoError(error);
      }
      // Items refused for a duplicate (or repeated within this batch) answer with the stored document's id.
      const duplicateKeys = [...failed.entries()].filter(([, e]) => (e as { code?: number }).code === 11000).map(([i]) => docs[i]!.dedupKey!).filter(Boolean);
      const existing = duplicateKeys.length ? await existingIds(duplicateKeys) : new Map<string, string>();
      return docs.map((doc, index) => {
        if (!failed.has(index)) return { id: doc._id.toHexString(), duplicate: false };
        const id = doc.dedupKey ? existing.get(doc.dedupKey) : undefined;
        return id ? { id, duplicate: true } : { error: 'MongoDB rejected the document' };
      });
    },

    async replay(tenantId, selectors) {
      try {
        return await replay(raw, { ...selectors, tenantId });
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
