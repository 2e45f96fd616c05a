// An operator's fix for a failed or dead document's wrong payload: replaced, the old one kept in
// `corrections` with who and when, and the document put back in line like a replay.
import { type Collection, ObjectId } from 'mongodb';
import type { Bound } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import { storedPayloadBytes } from '../domain/envelope.js';
import { type RawTransaction, type StatementFile, tenantFilter } from './collections.js';
import { retainStatements } from './retain-statements.js';
import { NO_LEASE, REPLAYABLE_STATUSES } from './states.js';

export type CorrectionResult =
  | { outcome: 'corrected'; tenantId: string }
  | { outcome: 'not-found' }
  | { outcome: 'not-correctable'; status: string };

/**
 * `tenantId` null: any tenant's document (an operator). `prepare` turns the proposed payload into the one
 * stored, given the document's source and external id, and throws to refuse it; it runs once the document
 * is found, before its status is looked at.
 */
export async function correctPayload(
  raw: Collection<RawTransaction>,
  {
    tenantId,
    id,
    prepare,
    by,
    at = new Date(),
    statements,
  }: {
    tenantId: string | null;
    id: string;
    prepare(document: Pick<RawTransaction, 'source' | 'externalId'>): Record<string, unknown>;
    by: string;
    at?: Date;
    /** The statement of a corrected entry, kept from now like a replayed one's (retain-statements.ts). */
    statements?: Collection<StatementFile>;
  },
  /** A deadline for each operation (db/mongo.ts, withinDeadline). */
  bound?: Bound,
): Promise<CorrectionResult> {
  const _id = new ObjectId(id);
  const scope = tenantFilter(tenantId);
  let doc: Pick<RawTransaction, 'tenantId' | 'source' | 'externalId' | 'payload' | 'status' | 'attempts' | 'statementId'> | null;
  try {
    doc = await raw.findOne(
      { _id, ...scope },
      { projection: { tenantId: 1, source: 1, externalId: 1, payload: 1, status: 1, attempts: 1, statementId: 1 }, ...bound },
    );
  } catch (error) {
    throw classifyMongoError(error);
  }
  if (!doc) return { outcome: 'not-found' };
  const payload = prepare(doc);
  if (!(REPLAYABLE_STATUSES as readonly string[]).includes(doc.status)) return { outcome: 'not-correctable', status: doc.status };
  if (statements) await retainStatements(statements, [doc], at, bound);
  try {
    // The filter repeats what was read, so a document that moved on meanwhile is not overwritten.
    const { modifiedCount } = await raw.updateOne(
      { _id, tenantId: doc.tenantId, processed: false, status: doc.status, attempts: doc.attempts },
      {
        $set: { payload, bytes: storedPayloadBytes(payload), status: 'pending', attempts: 0, ...NO_LEASE },
        $push: { corrections: { at, by, previous: doc.payload } },
      },
      { ...bound },
    );
    if (modifiedCount === 0) {
      const now = await raw.findOne({ _id, ...scope }, { projection: { status: 1 }, ...bound });
      return now ? { outcome: 'not-correctable', status: now.status } : { outcome: 'not-found' };
    }
    return { outcome: 'corrected', tenantId: doc.tenantId };
  } catch (error) {
    throw classifyMongoError(error);
  }
}
