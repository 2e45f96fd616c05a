// Which (tenant, day) pairs an incremental reconciliation redoes: those with documents received, or with an
// outcome logged, since the last run. Both are read by index (_id; processing_logs' `at`), never by a scan.
import { ObjectId } from 'mongodb';
import { type Bound, iterateWithin, MONGO_DEADLINES_MS } from '../db/mongo.js';
import type { MongoCollections } from '../raw-store/collections.js';
import { dayOf } from './reconcile.js';

/** Clocks of the gateways, processors and this process may differ by this much. */
const CLOCK_SKEW_MS = 60_000;
const CHUNK = 1_000;
const DEADLINE_MS = MONGO_DEADLINES_MS.reconcile;

export async function changedDays(mongo: MongoCollections, since: Date): Promise<Array<{ tenantId: string; day: string }>> {
  const from = new Date(since.getTime() - CLOCK_SKEW_MS);
  const days = new Set<string>();
  const add = (doc: { tenantId: string; receivedAt: Date }) => days.add(JSON.stringify([doc.tenantId, dayOf(doc.receivedAt)]));
  const projection = { tenantId: 1, receivedAt: 1 } as const;
  // New documents: ObjectIds start with their creation time, and the _id index walks them in order.
  const newSince = { _id: { $gte: ObjectId.createFromTime(Math.floor(from.getTime() / 1000)) } };
  for await (const doc of iterateWithin(DEADLINE_MS, (bound) => mongo.raw.find(newSince, { projection, batchSize: CHUNK, ...bound })))
    add(doc);
  // Documents with a new outcome (processed, failed, dead): their log entries, then the documents' days.
  let ids: ObjectId[] = [];
  const flush = async () => {
    const chunk = ids;
    for await (const doc of iterateWithin(DEADLINE_MS, (bound) => mongo.raw.find({ _id: { $in: chunk } }, { projection, ...bound })))
      add(doc);
    ids = [];
  };
  const logged = (bound: Bound) => mongo.logs.find({ at: { $gte: from } }, { projection: { rawId: 1 }, batchSize: CHUNK, ...bound });
  for await (const entry of iterateWithin(DEADLINE_MS, logged)) {
    ids.push(entry.rawId);
    if (ids.length >= CHUNK) await flush();
  }
  if (ids.length) await flush();
  return [...days].map((key) => {
    const [tenantId, day] = JSON.parse(key) as [string, string];
    return { tenantId, day };
  });
}
