// Admin operations for a tenant's own data, behind the admin scope.
//   POST /api/v1/admin/replay   failed or dead documents back in line (dryRun counts only)   admin
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { replaySelectorsSchema } from '../../raw-store/replay.js';
import type { Ingest } from '../ingest-port.js';

export const adminRoutes: FastifyPluginAsyncZod<{ ingest: Ingest }> = async (app, { ingest }) => {
  app.post(
    '/api/v1/admin/replay',
    {
      onRequest: app.authorize('admin'),
      schema: {
        summary: "Re-queue the tenant's failed or dead transactions by id, time range and status",
        body: replaySelectorsSchema.omit({ tenantId: true }),
        response: { 200: z.object({ matched: z.number(), replayed: z.number(), dryRun: z.boolean() }) },
      },
    },
    async (request) => {
      const result = await ingest.replay(request.tenantId, request.body);
      request.log.info({ tenantId: request.tenantId, ...result }, 'replay requested');
      return result;
    },
  );
};
