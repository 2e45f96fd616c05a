// POST /api/v1/transactions: authenticate, validate the envelope, hand it to ingestion, answer 202.
// GET  /api/v1/transactions/:id: where the raw document stands, for the statusUrl the POST returns.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { envelopeSchema, type Ingest } from '../../ingest/envelope.js';
import { rawStatusSchema } from '../../ingest/raw-status.js';
import { HttpProblem } from '../plugins/problem.js';

const acceptedSchema = z.object({
  id: z.string(),
  status: z.literal('pending'),
  statusUrl: z.string(),
});

export const transactionsRoutes: FastifyPluginAsyncZod<{ ingest: Ingest; publicBaseUrl?: string }> = async (app, options) => {
  const { ingest, publicBaseUrl = '' } = options;
  const statusUrlOf = (id: string) => `${publicBaseUrl}/api/v1/transactions/${id}`;

  app.post(
    '/api/v1/transactions',
    {
      onRequest: app.auth([app.verifyApiKey]),
      schema: { body: envelopeSchema, response: { 202: acceptedSchema } },
    },
    async (request, reply) => {
      const { id } = await ingest.accept(request.tenantId, request.body);
      const statusUrl = statusUrlOf(id);
      request.log.info({ rawId: id, tenantId: request.tenantId, source: request.body.source }, 'transaction accepted');
      return reply.code(202).header('Location', statusUrl).send({ id, status: 'pending', statusUrl });
    },
  );

  app.get(
    '/api/v1/transactions/:id',
    {
      onRequest: app.auth([app.verifyApiKey]),
      schema: { params: z.object({ id: z.string().regex(/^[0-9a-f]{24}$/, 'must be a transaction id') }), response: { 200: rawStatusSchema } },
    },
    async (request) => {
      const status = await ingest.status(request.tenantId, request.params.id);
      // Another tenant's id is indistinguishable from a missing one.
      if (!status) throw new HttpProblem(404, 'not-found', `No transaction ${request.params.id}.`);
      return status;
    },
  );
};
