// Each running processor reports how it is fed and how fresh its stream is, every few seconds, for a board
// served by another process; a clean stop removes it, a killed one ages out (TTL index `gone`).
import type { Collection } from 'mongodb';
import type { Bound } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { ProcessorReport } from './collections.js';

export async function reportProcessor(processors: Collection<ProcessorReport>, report: ProcessorReport): Promise<void> {
  try {
    const { _id, ...fields } = report;
    await processors.updateOne({ _id }, { $set: fields }, { upsert: true });
  } catch (error) {
    throw classifyMongoError(error);
  }
}

export async function withdrawProcessor(processors: Collection<ProcessorReport>, workerId: string): Promise<void> {
  await processors.deleteOne({ _id: workerId });
}

/** Reports seen within `freshSeconds`: the processors running now. */
export async function runningProcessors(processors: Collection<ProcessorReport>, freshSeconds: number, now = new Date(), bound?: Bound) {
  return processors
    .find({ seenAt: { $gte: new Date(now.getTime() - freshSeconds * 1000) } }, bound)
    .sort({ _id: 1 })
    .toArray();
}
