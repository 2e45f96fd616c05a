// An operator's fix for a failed or dead document whose payload was wrong: the payload is replaced, the
// one it replaces kept in `corrections` (with who and when), and the document put back in line like a
// replay. Only failed and dead documents: a pending one is the processor's, a processed one is history.
import { type Collection, ObjectId } from 'mongodb';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';
import { REPLAYABLE_STATUSES } from './states.js';

export type CorrectionResult = { outcome: 'corrected' } | { outcome: 'not-found' } | { outcome: 'not-correctable'; status: string };

export async function correctPayload(
  raw: Collection<RawTransaction>,
  { tenantId, id, payload, by, at = new Date() }: { tenantId: string; id: string; payload: Record<string, unknown>; by: string; at?: Date },
): Promise<CorrectionResult> {
  try {
    const _id = new ObjectId(id);
    const doc = await raw.findOne({ _id, tenantId }, { projection: { payload: 1, status: 1, attempts: 1 } });
    if (!doc) return { outcome: 'not-found' };
    if (!(REPLAYABLE_STATUSES as readonly string[]).includes(doc.status)) return { outcome: 'not-correctable', status: doc.status };
    // The filter repeats what was read, so a document that moved on meanwhile is not overwritten.
    const { modifiedCount } = await raw.updateOne(
      { _id, tenantId, processed: false, status: doc.status, attempts: doc.attempts },
      {
        $set: { payload, status: 'pending', attempts: 0, leaseOwner: null, leaseUntil: null, leaseToken: null },
        $push: { corrections: { at, by, previous: doc.payload } },
      },
    );
    if (modifiedCount === 0) {
      const now = await raw.findOne({ _id, tenantId }, { projection: { status: 1 } });
      return now ? { outcome: 'not-correctable', status: now.status } : { outcome: 'not-found' };
    }
    return { outcome: 'corrected' };
  } catch (error) {
    throw classifyMongoError(error);
  }
}
