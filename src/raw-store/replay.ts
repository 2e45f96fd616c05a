// Puts failed or dead raw documents back in line once their cause is fixed: attempts start again, the next
// sweep picks them up, their earlier outcomes stay in processing_logs; in chunks, reporting progress.
import type { Collection } from 'mongodb';
import { z } from 'zod';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';
import { selectionFilter, selectionSchema } from './selection.js';
import { NO_LEASE } from './states.js';

export const replaySelectorsSchema = selectionSchema.extend({ dryRun: z.boolean().default(false) });
export type ReplaySelectors = z.infer<typeof replaySelectorsSchema>;

export interface ReplayResult {
  matched: number;
  replayed: number;
  dryRun: boolean;
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
  const filter = selectionFilter(selectors);
  const matched = await raw.countDocuments(filter);
  if (selectors.dryRun || matched === 0) return { matched, replayed: 0, dryRun: selectors.dryRun };
  let replayed = 0;
  for (;;) {
    // Each chunk leaves the filter once replayed, so the next find moves on.
    const chunk = await raw.find(filter, { projection: { _id: 1 }, limit: chunkSize }).toArray();
    if (chunk.length === 0) break;
    const { modifiedCount } = await raw.updateMany(
      { ...filter, _id: { $in: chunk.map((doc) => doc._id) } },
      { $set: { status: 'pending', attempts: 0, ...NO_LEASE } },
    );
    replayed += modifiedCount;
    onProgress?.(replayed, matched);
    // A document that failed again meanwhile is not replayed twice in one run.
    if (modifiedCount === 0 || replayed >= matched) break;
  }
  return { matched, replayed, dryRun: false };
}
