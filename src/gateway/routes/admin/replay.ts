// POST /api/v1/admin/replay: failed or dead documents back in line (dryRun counts only).
import { z } from 'zod';
import { replaySelectorsSchema } from '../../../raw-store/replay.js';
import type { Ingest } from '../../ingest-port.js';
import { tenantScopeOf } from '../../plugins/auth.js';
import { idempotencyHeaders } from '../../plugins/idempotency.js';
import { ROUTE_PROBLEMS } from '../../problem-cases.js';
import type { App } from './admin-route.js';

export function replayRoute(app: App, { ingest }: { ingest: Ingest }): void {
  app.post(
    '/api/v1/admin/replay',
    {
      onRequest: app.authorize('admin'),
      schema: {
        operationId: 'replayDocuments',
        'x-problems': ROUTE_PROBLEMS.replay,
        headers: idempotencyHeaders,
        summary:
          "Re-queue the tenant's failed or dead transactions by id, source, error text, time range and status (tenantId: operator keys only; without it, an operator replays every tenant's)",
        body: replaySelectorsSchema,
        response: { 200: z.object({ matched: z.number(), replayed: z.number(), dryRun: z.boolean() }) },
      },
    },
    async (request) => {
      const { tenantId: requested, ...selectors } = request.body;
      const tenantId = tenantScopeOf(request.principal, requested);
      const result = await ingest.replay(tenantId, selectors);
      request.log.info(
        { audit: 'replay', tenantId: tenantId ?? '*', keyId: request.principal.keyId, ...selectors, ids: selectors.ids?.length, ...result },
        'replay requested',
      );
      return result;
    },
  );
}
