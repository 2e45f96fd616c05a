// The failed and dead outcomes whose events are not yet in PostgreSQL: read a page of them with what their
// events carry, and clear them once recorded.
import type { Collection } from 'mongodb';
import type { ProcessingLog, RawTransaction } from './collections.js';
import { type RawStatusView, toRawStatus } from './status-view.js';

export interface PendingFailureEvent {
  /** The log entry's id: one event per failed or dead outcome. */
  key: string;
  tenantId: string;
  outcome: 'failed' | 'dead';
  at: Date;
  /** The document as GET /api/v1/transactions/{id} shows it, with this outcome's status and error. */
  document: RawStatusView;
}

export async function pendingFailureEvents(
  logs: Collection<ProcessingLog>,
  raw: Collection<RawTransaction>,
  limit: number,
): Promise<{ events: PendingFailureEvent[]; keys: string[] }> {
  const entries = await logs.find({ eventPending: true }, { limit }).toArray();
  if (entries.length === 0) return { events: [], keys: [] };
  const docs = new Map(
    (await raw.find({ _id: { $in: entries.map((e) => e.rawId) } }, { projection: { payload: 0 } }).toArray()).map((d) => [
      d._id.toHexString(),
      d,
    ]),
  );
  const events: PendingFailureEvent[] = [];
  for (const entry of entries) {
    const doc = docs.get(entry.rawId.toHexString());
    if (!doc || entry.outcome === 'processed') continue; // purged since: nothing left to describe
    events.push({
      key: entry._id,
      tenantId: entry.tenantId,
      outcome: entry.outcome,
      at: entry.at,
      // As GET showed it at this outcome, not as the document stands now.
      document: { ...toRawStatus(doc), status: entry.outcome, lastError: entry.error ?? null, processedAt: null },
    });
  }
  return { events, keys: entries.map((e) => e._id) };
}

/** Clears the entries whose events are recorded (or that have none to record). */
export async function clearPendingFailureEvents(logs: Collection<ProcessingLog>, keys: string[]): Promise<void> {
  if (keys.length) await logs.updateMany({ _id: { $in: keys } }, { $unset: { eventPending: '' } });
}
