// Ingestion over the raw store: what the ingestion service serves, and what the gateway calls directly
// when both run in one process.
import { MONGO_DEADLINES_MS } from '../db/mongo.js';
import type { CamtDocument } from '../domain/camt053-xml.js';
import type { Accepted, Envelope } from '../domain/envelope.js';
import { type StatementCollections, tenantFilter } from '../raw-store/collections.js';
import { createCoalescedInsert, insertRaw, insertRawMany } from '../raw-store/insert.js';
import { insertStatement } from '../raw-store/insert-statement.js';
import { type ReplayResult, type ReplaySelectors, replay } from '../raw-store/replay.js';
import { type EntriesPage, findStatementStatus, type StatementStatusView } from '../raw-store/statement-status.js';
import { findRawStatus, type RawStatusView } from '../raw-store/status-view.js';

/** Ingestion over the raw store; it is what the gateway's ingestion port (gateway/ingest-port.ts) declares. */
export type MongoIngest = ReturnType<typeof createMongoIngest>;

export interface MongoIngestOptions {
  onStored?: (source: string) => void;
  /** Single documents accepted before the next timers turn of the event loop are stored by one insertMany of at most this many (1: each alone). */
  coalesceMaxDocs?: number;
  /** The deadline of storing one uploaded statement, every operation included (STATEMENT_STORE_TIMEOUT_MS). */
  statementTimeoutMs?: number;
}

export function createMongoIngest(
  store: StatementCollections,
  { onStored, coalesceMaxDocs = 1, statementTimeoutMs }: MongoIngestOptions = {},
) {
  const { raw } = store;
  const insertOne = createCoalescedInsert(raw, { maxDocs: coalesceMaxDocs });
  return {
    async accept(tenantId: string, envelope: Envelope): Promise<Accepted> {
      const accepted = await insertRaw(insertOne, raw, tenantId, envelope);
      if (!accepted.duplicate) onStored?.(envelope.source);
      return accepted;
    },
    async acceptMany(tenantId: string, envelopes: Envelope[]): Promise<Array<Accepted | { error: string }>> {
      const results = await insertRawMany(raw, tenantId, envelopes);
      results.forEach((result, i) => {
        if ('id' in result && !result.duplicate) onStored?.(envelopes[i]!.source);
      });
      return results;
    },
    replay: (tenantId: string | null, selectors: Omit<ReplaySelectors, 'tenantId'>): Promise<ReplayResult> =>
      // Asked from the board (POST /api/v1/admin/replay): each step within the board's deadline.
      replay(raw, { ...selectors, ...tenantFilter(tenantId) }, { stepDeadlineMs: MONGO_DEADLINES_MS.board, statements: store.statements }),
    status: (tenantId: string, id: string): Promise<RawStatusView | undefined> => findRawStatus(raw, tenantId, id),
    async acceptStatement(tenantId: string, xml: string, file: CamtDocument): Promise<Accepted> {
      const accepted = await insertStatement(store, tenantId, file, xml, { timeoutMs: statementTimeoutMs });
      if (!accepted.duplicate) for (const stmt of file.statements) for (const _ of stmt.entries) onStored?.('iso20022');
      return accepted;
    },
    // A client waits for it (a GET, or a duplicate upload's status): the accept path's deadline (findStatementStatus's default).
    statementStatus: (tenantId: string, id: string, page?: EntriesPage): Promise<StatementStatusView | undefined> =>
      findStatementStatus(store, tenantId, id, page),
  };
}
