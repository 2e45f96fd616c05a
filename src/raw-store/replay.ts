// Puts failed or dead raw documents back in line once their cause is fixed: attempts start again, the next
// sweep picks them up, their earlier outcomes stay in processing_logs; in chunks, reporting progress.
import type { Collection } from 'mongodb';
import { z } from 'zod';
import { MONGO_DEADLINES_MS, withinDeadline } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction, StatementFile } from './collections.js';
import { retainStatements } from './retain-statements.js';
import { selectionFilter, selectionSchema } from './selection.js';
import { NO_LEASE } from './states.js';

export const replaySelectorsSchema = selectionSchema.extend({ dryRun: z.boolean().default(false) });
export type ReplaySelectors = z.infer<typeof replaySelectorsSchema>;

export interface ReplayResult {
  matched: number;
  replayed: number;
  dryRun: boolean;
}

interface ReplayOptions {
  /**
   * The statements of replayed entries, kept from the replay on (retain-statements.ts): a dead entry replayed
   * at the end of its retention still finds its account when it is claimed.
   */
  statements?: Collection<StatementFile>;
  chunkSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** The deadline of each step (the count, each chunk's find and update); a replay has as many steps as chunks. */
  stepDeadlineMs?: number;
}

export async function replay(
  raw: Collection<RawTransaction>,
  selectors: ReplaySelectors,
  options: ReplayOptions = {},
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
  { chunkSize = 1_000, onProgress, stepDeadlineMs = MONGO_DEADLINES_MS.command, statements }: ReplayOptions,
): Promise<ReplayResult> {
  const filter = selectionFilter(selectors);
  const step = <T>(operation: Parameters<typeof withinDeadline<T>>[1]) => withinDeadline(stepDeadlineMs, operation);
  const matched = await step((bound) => raw.countDocuments(filter, bound));
  if (selectors.dryRun || matched === 0) return { matched, replayed: 0, dryRun: selectors.dryRun };
  let replayed = 0;
  for (;;) {
    // Each chunk leaves the filter once replayed, so the next find moves on.
    const chunk = await step((bound) => raw.find(filter, { projection: { _id: 1, statementId: 1 }, limit: chunkSize, ...bound }).toArray());
    if (chunk.length === 0) break;
    if (statements) await step((bound) => retainStatements(statements, chunk, new Date(), bound));
    const { modifiedCount } = await step((bound) =>
      raw.updateMany(
        { ...filter, _id: { $in: chunk.map((doc) => doc._id) } },
        { $set: { status: 'pending', attempts: 0, ...NO_LEASE } },
        bound,
      ),
    );
    replayed += modifiedCount;
    onProgress?.(replayed, matched);
    // A document that failed again meanwhile is not replayed twice in one run.
    if (modifiedCount === 0 || replayed >= matched) break;
  }
  return { matched, replayed, dryRun: false };
}
