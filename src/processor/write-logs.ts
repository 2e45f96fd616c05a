// One processing_logs entry per document outcome, written after the outcome is recorded. Entries have
// deterministic ids, so an insert retried after a lost acknowledgement adds nothing twice.
import { MongoBulkWriteError, ObjectId, type Collection } from 'mongodb';
import type { ProcessingLog } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { LogEntry } from '../streams/pipeline.js';
import type { ClaimedRaw } from './claim-batch.js';

export async function writeLogs(logs: Collection<ProcessingLog>, entries: Array<LogEntry<ClaimedRaw>>, worker: string, at = new Date()): Promise<void> {
  if (entries.length === 0) return;
  try {
    await logs.insertMany(
      entries.map((entry) => ({
        _id: `${entry.batchId}:${entry.id}`,
        rawId: new ObjectId(entry.id),
        tenantId: entry.doc.raw.tenantId,
        outcome: entry.outcome,
        durationMs: entry.durationMs,
        latencyMs: entry.latencyMs,
        worker,
        batchId: entry.batchId,
        at,
        ...(entry.error ? { error: entry.error } : {}),
      })),
      { ordered: false },
    );
  } catch (error) {
    const writeErrors = error instanceof MongoBulkWriteError ? [error.writeErrors].flat() : [];
    const duplicatesOnly = writeErrors.length > 0 && writeErrors.every((e) => e.code === 11000);
    if (duplicatesOnly) return;
    throw classifyMongoError(error);
  }
}
