// Puts failed or dead-lettered raw documents back in line after their cause is fixed (a new mapper, a
// corrected currency list): attempts start again from zero, the next sweep picks them up, and their
// earlier outcomes stay in processing_logs. Works in chunks so a large replay reports progress.
import { type Collection, type Filter, ObjectId } from 'mongodb';
import { z } from 'zod';
import { classifyMongoError } from '../db/mongo-errors.js';
import { transactionIdSchema } from '../domain/ids.js';
import type { RawTransaction } from './collections.js';
import { REPLAYABLE_STATUSES } from './states.js';

export const replaySelectorsSchema = z.strictObject({
  ids: z.array(transactionIdSchema).max(10_000).optional(),
  tenantId: z.string().min(1).max(64).optional(),
  /** receivedAt range: from inclusive, to exclusive. */
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  statuses: z
    .array(z.enum(REPLAYABLE_STATUSES))
    .min(1)
    .default([...REPLAYABLE_STATUSES]),
  dryRun: z.boolean().default(false),
});
export type ReplaySelectors = z.infer<typeof replaySelectorsSchema>;

export interface ReplayResult {
  matched: number;
  replayed: number;
  dryRun: boolean;
}

export function replayFilter(selectors: ReplaySelectors): Filter<RawTransaction> {
  const filter: Filter<RawTransaction> = { processed: false, status: { $in: selectors.statuses } };
  if (selectors.ids?.length) filter._id = { $in: selectors.ids.map((id) => new ObjectId(id)) };
  if (selectors.tenantId) filter.tenantId = selectors.tenantId;
  if (selectors.from || selectors.to) {
    filter.receivedAt = {
      ...(selectors.from ? { $gte: new Date(selectors.from) } : {}),
      ...(selectors.to ? { $lt: new Date(selectors.to) } : {}),
    };
  }
  return filter;
}

export async function replay(
  raw: Collection<RawTransaction>,
  selectors: ReplaySelectors,
  options: { chunkSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ReplayResult> {
  try {
    return await replayChunks(raw, selectors, options);
  } catch (error) {
    throw classifyMongoError(error);
  }
}

async function replayChunks(
  raw: Collection<RawTransaction>,
  selectors: ReplaySelectors,
  { chunkSize = 1_000, onProgress }: { chunkSize?: number; onProgress?: (done: number, total: number) => void },
): Promise<ReplayResult> {
  const filter = replayFilter(selectors);
  const matched = await raw.countDocuments(filter);
  if (selectors.dryRun || matched === 0) return { matched, replayed: 0, dryRun: selectors.dryRun };
  let replayed = 0;
  for (;;) {
    // Each chunk leaves the filter once replayed, so the next find moves on.
    const chunk = await raw.find(filter, { projection: { _id: 1 }, limit: chunkSize }).toArray();
    if (chunk.length === 0) break;
    const { modifiedCount } = await raw.updateMany(
      { ...filter, _id: { $in: chunk.map((doc) => doc._id) } },
      { $set: { status: 'pending', attempts: 0, leaseOwner: null, leaseUntil: null, leaseToken: null } },
    );
    replayed += modifiedCount;
    onProgress?.(replayed, matched);
    // A document that failed again meanwhile is not replayed twice in one run.
    if (modifiedCount === 0 || replayed >= matched) break;
  }
  return { matched, replayed, dryRun: false };
}
