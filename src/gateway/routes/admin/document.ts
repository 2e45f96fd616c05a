// GET /api/v1/admin/documents/:id: one raw document, its logged outcomes, corrections and row once processed.
import { z } from 'zod';
import { MONGO_DEADLINES_MS, readWithin } from '../../../db/mongo.js';
import type { Database } from '../../../db/postgres.js';
import { HttpProblem } from '../../../http/problem.js';
import type { MongoCollections } from '../../../raw-store/collections.js';
import { findDocumentDetail } from '../../../raw-store/document-detail.js';
import { tenantScopeOf } from '../../plugins/auth.js';
import { ROUTE_PROBLEMS } from '../../problem-cases.js';
import { getTransaction } from '../../transactions-query.js';
import { type App, documentSummary, idParams, jsonObject, noStore } from './admin-route.js';

const detailSchema = z.object({
  document: documentSummary.extend({
    payload: jsonObject,
    leaseUntil: z.string().nullable(),
    corrections: z.array(z.object({ at: z.string(), by: z.string(), previous: jsonObject })),
  }),
  logs: z.array(
    z.object({
      at: z.string(),
      outcome: z.string(),
      batchId: z.string(),
      worker: z.string(),
      durationMs: z.number(),
      latencyMs: z.number(),
      error: z.string().nullable(),
    }),
  ),
  /** The structured row once processed; null before, or while PostgreSQL cannot be reached (see the flag). */
  transaction: jsonObject.nullable(),
  transactionUnavailable: z.boolean(),
});

export function documentRoute(app: App, { mongo, db }: { mongo: MongoCollections; db: Database }): void {
  app.get(
    '/api/v1/admin/documents/:id',
    {
      onRequest: app.authorize('admin'),
      onSend: noStore,
      schema: {
        operationId: 'getDocument',
        'x-problems': ROUTE_PROBLEMS.readById,
        summary: 'One raw document: its payload, progress, every logged outcome, corrections, and its row once processed',
        params: idParams,
        response: { 200: detailSchema },
      },
    },
    async (request) => {
      const scope = tenantScopeOf(request.principal);
      const detail = await readWithin(MONGO_DEADLINES_MS.board, (bound) => findDocumentDetail(mongo, scope, request.params.id, bound));
      if (!detail) throw new HttpProblem(404, 'not-found', `No document ${request.params.id}.`);
      const { tenantId } = detail.document;
      request.log.info(
        { audit: 'document-viewed', tenantId, keyId: request.principal.keyId, rawId: request.params.id },
        'board: document viewed',
      );
      let transaction: unknown = null;
      let transactionUnavailable = false;
      if (detail.document.status === 'processed') {
        // The board still shows what MongoDB knows while PostgreSQL is away.
        try {
          transaction = (await getTransaction(db, tenantId, request.params.id)) ?? null;
        } catch (error) {
          request.log.warn({ err: error }, 'board: the structured row could not be read');
          transactionUnavailable = true;
        }
      }
      const logs =
        scope === null
          ? detail.logs
          : detail.logs.map((log) => ({ ...log, worker: 'processor', batchId: log.batchId.replace(log.worker, 'processor') }));
      return { ...detail, logs, transaction: transaction as Record<string, unknown> | null, transactionUnavailable };
    },
  );
}
