// Reconciliation's walk over the raw documents of a range of days, in the order they were received: the
// documents it counts and compares with their rows, read a page at a time.

import type { Collection } from 'mongodb';
import { type Bound, iterateWithin, MONGO_DEADLINES_MS } from '../db/mongo.js';
import type { RawTransaction } from './collections.js';

export interface ReceivedRange {
  /** receivedAt from, inclusive. */
  from: Date;
  /** receivedAt to, exclusive. */
  to: Date;
  tenantId?: string;
  source?: string;
}

/**
 * The documents received in the range (of one tenant and source, when given), oldest first, each wait for
 * the server within `stepMs`. `pageSize` bounds what a getMore brings: a server may otherwise answer one with
 * up to 16 MiB of documents, all held at once.
 */
export function iterateReceivedBetween(
  raw: Collection<RawTransaction>,
  { from, to, tenantId, source }: ReceivedRange,
  { pageSize, stepMs = MONGO_DEADLINES_MS.reconcile }: { pageSize: number; stepMs?: number },
): AsyncGenerator<RawTransaction> {
  const filter = {
    receivedAt: { $gte: from, $lt: to },
    ...(tenantId ? { tenantId } : {}),
    ...(source ? { source } : {}),
  };
  return iterateWithin(stepMs, (bound: Bound) => raw.find(filter, { sort: { receivedAt: 1, _id: 1 }, batchSize: pageSize, ...bound }));
}
