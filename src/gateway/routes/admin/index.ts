// The admin API, behind the admin scope: a tenant's admin key acts on its tenant, an operator key on any
// tenant or all. The board's page (board/board-page.ts) reads everything it shows from here.
//   POST /api/v1/admin/replay                  failed or dead documents back in line
//   GET  /api/v1/admin/board/overview          backlog, rates, failures, processors, the last 15 minutes
//   GET  /api/v1/admin/documents[/:id]         failed and dead documents; one with its logs and row
//   POST /api/v1/admin/documents/:id/payload   correct a failed or dead document's payload, replay it
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from '../../../db/postgres.js';
import type { MongoCollections, Retention } from '../../../raw-store/collections.js';
import type { Ingest } from '../../ingest-port.js';
import { correctPayloadRoute } from './correct-payload.js';
import { documentRoute } from './document.js';
import { documentsRoute } from './documents.js';
import { overviewRoute } from './overview.js';
import { replayRoute } from './replay.js';

export interface AdminRouteOptions {
  ingest: Ingest;
  db: Database;
  mongo: MongoCollections;
  retention: Retention;
  /** A processor that has not reported for this long is not shown as running. */
  processorFreshSeconds?: number;
}

export const adminRoutes: FastifyPluginAsyncZod<AdminRouteOptions> = async (app, options) => {
  const { ingest, db, mongo, retention } = options;
  replayRoute(app, { ingest });
  overviewRoute(app, { mongo, retention, freshSeconds: options.processorFreshSeconds ?? 30 });
  documentsRoute(app, { raw: mongo.raw });
  documentRoute(app, { mongo, db });
  correctPayloadRoute(app, { raw: mongo.raw });
};
