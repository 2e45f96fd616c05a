// One processing_logs entry per document outcome, written after the outcome is recorded. Entries have
// deterministic ids, so an insert retried after a lost acknowledgement adds nothing twice. A failed or dead
// entry waits there for its event to be recorded in PostgreSQL, which may be the store that failed.

import { type Collection, MongoBulkWriteError, ObjectId } from 'mongodb';
import type { Bound } from '../db/mongo.js';
import { classifyMongoError, DUPLICATE_KEY } from '../db/mongo-errors.js';
import type { Outcome } from '../domain/outcome.js';
import type { ProcessingLog } from './collections.js';

export interface ProcessingLogEntry {
  rawId: string;
  tenantId: string;
  outcome: Outcome;
  batchId: string;
  durationMs: number;
  latencyMs: number;
  error?: string;
}

export async function writeLogs(
  logs: Collection<ProcessingLog>,
  entries: ProcessingLogEntry[],
  worker: string,
  at = new Date(),
  bound?: Bound,
): Promise<void> {
  if (entries.length === 0) return;
  try {
    await logs.insertMany(
      entries.map((entry) => ({
        _id: `${entry.batchId}:${entry.rawId}`,
        rawId: new ObjectId(entry.rawId),
        tenantId: entry.tenantId,
        outcome: entry.outcome,
        durationMs: entry.durationMs,
        latencyMs: entry.latencyMs,
        worker,
        batchId: entry.batchId,
        at,
        ...(entry.error ? { error: entry.error } : {}),
        ...(entry.outcome === 'processed' ? {} : { eventPending: true as const }),
      })),
      { ordered: false, ...bound },
    );
  } catch (error) {
    const writeErrors = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
    const duplicatesOnly = writeErrors.length > 0 && writeErrors.every((e) => e.code === DUPLICATE_KEY);
    if (duplicatesOnly) return;
    throw classifyMongoError(error);
  }
}
