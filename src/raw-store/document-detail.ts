// Everything MongoDB knows of one raw document, for the board: what was sent, where it stands, and every
// outcome logged for it, oldest first.
import { type Collection, ObjectId } from 'mongodb';
import type { Bound } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import { type ProcessingLog, type RawTransaction, type StatementFile, tenantFilter } from './collections.js';
import { resolveStatementParts } from './statement-parts.js';
import { type RawStatusView, toRawStatus } from './status-view.js';

export interface DocumentDetail {
  document: RawStatusView & {
    tenantId: string;
    payload: Record<string, unknown>;
    leaseUntil: string | null;
    corrections: Array<{ at: string; by: string; previous: Record<string, unknown> }>;
  };
  logs: Array<{
    at: string;
    outcome: string;
    batchId: string;
    worker: string;
    durationMs: number;
    latencyMs: number;
    error: string | null;
  }>;
}

export async function findDocumentDetail(
  collections: { raw: Collection<RawTransaction>; logs: Collection<ProcessingLog>; statements: Collection<StatementFile> },
  /** The tenant whose document it must be; null: any tenant's (an operator). */
  tenantId: string | null,
  id: string,
  bound?: Bound,
): Promise<DocumentDetail | undefined> {
  try {
    const rawId = new ObjectId(id);
    const [doc, logs] = await Promise.all([
      collections.raw.findOne({ _id: rawId, ...tenantFilter(tenantId) }, { ...bound }),
      collections.logs.find({ rawId }, bound).sort({ at: 1, _id: 1 }).limit(500).toArray(),
    ]);
    if (!doc) return undefined;
    // A statement entry shows as its mapper reads it (and as a correction would replace it): its account beside it.
    await resolveStatementParts(collections.statements, [doc], bound);
    return {
      document: {
        ...toRawStatus(doc),
        tenantId: doc.tenantId,
        payload: doc.payload,
        leaseUntil: doc.leaseUntil?.toISOString() ?? null,
        corrections: (doc.corrections ?? []).map((c) => ({ at: c.at.toISOString(), by: c.by, previous: c.previous })),
      },
      logs: logs.map((log) => ({
        at: log.at.toISOString(),
        outcome: log.outcome,
        batchId: log.batchId,
        worker: log.worker,
        durationMs: log.durationMs,
        latencyMs: log.latencyMs,
        error: log.error ?? null,
      })),
    };
  } catch (error) {
    throw classifyMongoError(error);
  }
}
