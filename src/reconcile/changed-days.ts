// Which (tenant, day) pairs an incremental reconciliation redoes: those with documents received, or with an
// outcome logged, since the last run (raw-store/touched-since.ts reads them by index).
import type { MongoCollections } from '../raw-store/collections.js';
import { iterateTouchedSince } from '../raw-store/touched-since.js';
import { dayOf } from './reconcile.js';

/** Clocks of the gateways, processors and this process may differ by this much. */
const CLOCK_SKEW_MS = 60_000;

export async function changedDays(mongo: MongoCollections, since: Date): Promise<Array<{ tenantId: string; day: string }>> {
  const from = new Date(since.getTime() - CLOCK_SKEW_MS);
  const days = new Set<string>();
  for await (const doc of iterateTouchedSince(mongo, from)) days.add(JSON.stringify([doc.tenantId, dayOf(doc.receivedAt)]));
  return [...days].map((key) => {
    const [tenantId, day] = JSON.parse(key) as [string, string];
    return { tenantId, day };
  });
}
