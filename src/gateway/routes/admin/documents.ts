// GET /api/v1/admin/documents: the tenant's failed and dead documents, filtered like a replay selects.

import type { Collection } from 'mongodb';
import { z } from 'zod';
import { MONGO_DEADLINES_MS, readWithin } from '../../../db/mongo.js';
import { transactionIdSchema } from '../../../domain/ids.js';
import type { RawTransaction } from '../../../raw-store/collections.js';
import { listDocuments } from '../../../raw-store/list-documents.js';
import { selectionSchema } from '../../../raw-store/selection.js';
import { REPLAYABLE_STATUSES } from '../../../raw-store/states.js';
import { tenantScopeOf } from '../../plugins/auth.js';
import { ROUTE_PROBLEMS } from '../../problem-cases.js';
import { type App, documentSummary, noStore, tenantQuery } from './admin-route.js';

// The list's filters are the replay's selectors (one status here, in a query string), so what the board
// lists is what "replay these" replays.
const documentsQuery = tenantQuery.extend({
  status: z.enum(REPLAYABLE_STATUSES).optional(),
  ...selectionSchema.pick({ source: true, error: true, from: true, to: true }).shape,
  limit: z.coerce.number().int().min(1).max(100).default(25),
  /** The id of the last document read: the page starts after it (newest first). */
  starting_after: transactionIdSchema.optional(),
  /** Before starting_after: the same cursor under its old name, kept for clients written against it. */
  before: transactionIdSchema.optional().meta({ deprecated: true, description: 'Deprecated: send starting_after' }),
});

export function documentsRoute(app: App, { raw }: { raw: Collection<RawTransaction> }): void {
  app.get(
    '/api/v1/admin/documents',
    {
      onRequest: app.authorize('admin'),
      onSend: noStore,
      links: { 200: { getDocument: { operationId: 'getDocument', parameters: { id: '$response.body#/data/0/id' } } } },
      schema: {
        operationId: 'listDocuments',
        'x-problems': ROUTE_PROBLEMS.adminRead,
        summary:
          "The tenant's failed and dead documents, newest first, filtered by status, source, error text and time (and tenant, for operator keys)",
        querystring: documentsQuery,
        response: {
          200: z.object({
            data: z.array(documentSummary),
            has_more: z.boolean(),
            next_starting_after: z.string().nullable(),
            next_before: z.string().nullable().meta({ deprecated: true, description: 'Deprecated: read next_starting_after' }),
          }),
        },
      },
    },
    async (request) => {
      const { tenant, status, limit, starting_after: after, before: oldCursor, ...filters } = request.query;
      const before = after ?? oldCursor;
      const tenantId = tenantScopeOf(request.principal, tenant) ?? undefined;
      const page = await readWithin(MONGO_DEADLINES_MS.board, (bound) =>
        listDocuments(raw, { ...filters, tenantId, statuses: status ? [status] : [...REPLAYABLE_STATUSES] }, { limit, before }, bound),
      );
      return { data: page.data, has_more: page.nextBefore !== null, next_starting_after: page.nextBefore, next_before: page.nextBefore };
    },
  );
}
