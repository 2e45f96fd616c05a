// What a client may see of a raw document: its progress, never its lease or internal fields.

import { type Collection, ObjectId } from 'mongodb';
import { z } from 'zod';
import { withinAcceptDeadline } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';
import { RAW_STATUSES } from './collections.js';

export const rawStatusSchema = z.object({
  id: z.string(),
  source: z.string(),
  externalId: z.string().nullable(),
  status: z.enum(RAW_STATUSES),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  receivedAt: z.string(),
  processedAt: z.string().nullable(),
});

export type RawStatusView = z.infer<typeof rawStatusSchema>;

export function toRawStatus(doc: RawTransaction): RawStatusView {
  return {
    id: doc._id.toHexString(),
    source: doc.source,
    externalId: doc.externalId,
    status: doc.status,
    attempts: doc.attempts,
    lastError: doc.lastError ?? null,
    receivedAt: doc.receivedAt.toISOString(),
    processedAt: doc.processedAt?.toISOString() ?? null,
  };
}

/** The tenant's raw document's progress, or undefined when the tenant has no such document. */
export async function findRawStatus(raw: Collection<RawTransaction>, tenantId: string, id: string): Promise<RawStatusView | undefined> {
  try {
    // A client's GET waits for it: the accept path's deadline.
    const doc = await withinAcceptDeadline((bound) => raw.findOne({ _id: new ObjectId(id), tenantId }, bound));
    return doc ? toRawStatus(doc) : undefined;
  } catch (error) {
    throw classifyMongoError(error);
  }
}
