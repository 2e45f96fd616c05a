// What a client may see of a raw document: its progress, never its lease or internal fields.
import { z } from 'zod';
import type { RawTransaction } from '../db/mongo.js';

export const rawStatusSchema = z.object({
  id: z.string(),
  source: z.string(),
  externalId: z.string().nullable(),
  status: z.enum(['pending', 'processed', 'failed', 'dead']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  receivedAt: z.string(),
  processedAt: z.string().nullable(),
});

export type RawStatus = z.infer<typeof rawStatusSchema>;

export function toRawStatus(doc: RawTransaction): RawStatus {
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
