// The admin API, behind the admin scope: replay, the board's overview, failed and dead documents, one
// document, payload correction, reconciliation (a tenant's admin key acts on its tenant, an operator key on any or all).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from '../../../db/postgres.js';
import type { MongoCollections, Retention } from '../../../raw-store/collections.js';
import type { Ingest } from '../../ingest-port.js';
import type { QuotaView } from '../../tenant-quotas.js';
import { correctPayloadRoute } from './correct-payload.js';
import { documentRoute } from './document.js';
import { documentsRoute } from './documents.js';
import { overviewRoute } from './overview.js';
import { reconciliationRoute } from './reconciliation.js';
import { replayRoute } from './replay.js';

export interface AdminRouteOptions {
  ingest: Ingest;
  db: Database;
  mongo: MongoCollections;
  retention: Retention;
  /** A processor that has not reported for this long is not shown as running. */
  processorFreshSeconds?: number;
  /** The tenant quotas' limits and refusals, for the board. */
  quotas: QuotaView;
}

export const adminRoutes: FastifyPluginAsyncZod<AdminRouteOptions> = async (app, options) => {
  const { ingest, db, mongo, retention } = options;
  replayRoute(app, { ingest });
  overviewRoute(app, { mongo, retention, freshSeconds: options.processorFreshSeconds ?? 30, quotas: options.quotas });
  documentsRoute(app, { raw: mongo.raw });
  documentRoute(app, { mongo, db });
  correctPayloadRoute(app, { raw: mongo.raw, statements: mongo.statements });
  reconciliationRoute(app, { db });
};
