// The change stream's resume token, one document per processor group, stored after each committed batch
// so a restarted processor resumes after the last event it fully handled.

import type { Collection } from 'mongodb';
import { type Bound, MONGO_DEADLINES_MS, readWithin } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { ProcessorCheckpoint } from './collections.js';

export async function saveCheckpoint(
  checkpoints: Collection<ProcessorCheckpoint>,
  group: string,
  resumeToken: unknown,
  worker: string,
  bound?: Bound,
): Promise<void> {
  try {
    await checkpoints.updateOne({ _id: group }, { $set: { resumeToken, worker, at: new Date() } }, { upsert: true, ...bound });
  } catch (error) {
    throw classifyMongoError(error);
  }
}

/** The group's stored token, read within the processor's deadline (a MongoDB that does not answer fails the start, classified). */
export async function loadCheckpoint(
  checkpoints: Collection<ProcessorCheckpoint>,
  group: string,
): Promise<{ resumeToken: unknown; at: Date } | undefined> {
  const checkpoint = await readWithin(MONGO_DEADLINES_MS.processor, (bound) => checkpoints.findOne({ _id: group }, bound));
  return checkpoint ? { resumeToken: checkpoint.resumeToken, at: checkpoint.at } : undefined;
}
