// Which raw documents changed since a moment, for an incremental reconciliation: those received since, and
// those with an outcome logged since. Both are read by index (_id; processing_logs' `at`), never by a scan.
import { type Collection, ObjectId } from 'mongodb';
import { iterateWithin, MONGO_DEADLINES_MS } from '../db/mongo.js';
import type { ProcessingLog, RawTransaction } from './collections.js';

const PAGE = 1_000;
const projection = { tenantId: 1, receivedAt: 1 } as const;

/**
 * The tenant and receipt time of each document received since `from` or with an outcome (processed, failed,
 * dead) logged since; a document may come more than once. Each wait for the server within `stepMs`.
 */
export async function* iterateTouchedSince(
  store: { raw: Collection<RawTransaction>; logs: Collection<ProcessingLog> },
  from: Date,
  stepMs: number = MONGO_DEADLINES_MS.reconcile,
): AsyncGenerator<Pick<RawTransaction, 'tenantId' | 'receivedAt'>> {
  // New documents: ObjectIds start with their creation time, and the _id index walks them in order.
  const newSince = { _id: { $gte: ObjectId.createFromTime(Math.floor(from.getTime() / 1000)) } };
  yield* iterateWithin(stepMs, (bound) => store.raw.find(newSince, { projection, batchSize: PAGE, ...bound }));
  // Documents with a new outcome: their log entries, then the documents, a page of ids at a time.
  let ids: ObjectId[] = [];
  const logged = iterateWithin(stepMs, (bound) =>
    store.logs.find({ at: { $gte: from } }, { projection: { rawId: 1 }, batchSize: PAGE, ...bound }),
  );
  for await (const entry of logged) {
    ids.push(entry.rawId);
    if (ids.length < PAGE) continue;
    yield* documentsOf(store.raw, ids, stepMs);
    ids = [];
  }
  if (ids.length) yield* documentsOf(store.raw, ids, stepMs);
}

function documentsOf(raw: Collection<RawTransaction>, ids: ObjectId[], stepMs: number) {
  return iterateWithin(stepMs, (bound) => raw.find({ _id: { $in: ids } }, { projection, ...bound }));
}
