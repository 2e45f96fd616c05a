// Ingestion as its own service, so it scales apart from the gateway: the gateway's HTTP client posts
// already-authenticated envelopes here, and this service stores them through the same Ingest.
import { logRequestsAtDebug, quietRequestLogController } from '../http/request-log.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Logger } from '../config/logger.js';
import { HttpProblem, problemPlugin } from '../gateway/plugins/problem.js';
import { envelopeSchema, type Ingest } from './envelope.js';
import { replaySelectorsSchema } from '../processor/replay.js';
import { rawStatusSchema } from './raw-status.js';
import type { Metrics } from '../ops/metrics.js';
import { opsRoutes } from '../ops/ops-routes.js';
import type { Readiness } from '../ops/readiness.js';

const tenantId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

export async function buildIngestServer({
  ingest,
  logger,
  bodyLimitBytes,
  ops,
}: {
  ingest: Ingest;
  logger: Logger;
  bodyLimitBytes: number;
  ops?: { metrics: Metrics; readiness: Readiness };
}): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: logger.child({ component: 'ingest' }) as FastifyBaseLogger, bodyLimit: bodyLimitBytes, requestIdHeader: 'x-request-id', logController: quietRequestLogController() }).withTypeProvider<ZodTypeProvider>();
  logRequestsAtDebug(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(problemPlugin);

  app.post(
    '/internal/v1/raw',
    { schema: { body: z.strictObject({ tenantId, envelope: envelopeSchema }), response: { 201: z.object({ id: z.string(), duplicate: z.boolean() }) } } },
    async (request, reply) => reply.code(201).send(await ingest.accept(request.body.tenantId, request.body.envelope)),
  );
  app.post(
    '/internal/v1/raw/batch',
    {
      schema: {
        body: z.strictObject({ tenantId, envelopes: z.array(envelopeSchema).max(10_000) }),
        response: { 200: z.object({ results: z.array(z.union([z.object({ id: z.string(), duplicate: z.boolean() }), z.object({ error: z.string() })])) }) },
      },
    },
    async (request) => ({ results: await ingest.acceptMany(request.body.tenantId, request.body.envelopes) }),
  );
  app.post(
    '/internal/v1/replay',
    { schema: { body: z.strictObject({ tenantId, selectors: replaySelectorsSchema.omit({ tenantId: true }) }) } },
    async (request) => ingest.replay(request.body.tenantId, request.body.selectors),
  );
  app.get(
    '/internal/v1/raw/:tenantId/:id',
    { schema: { params: z.object({ tenantId, id: z.string().regex(/^[0-9a-f]{24}$/) }), response: { 200: rawStatusSchema } } },
    async (request) => {
      const status = await ingest.status(request.params.tenantId, request.params.id);
      if (!status) throw new HttpProblem(404, 'not-found', `No raw document ${request.params.id}.`);
      return status;
    },
  );
  if (ops) await app.register(opsRoutes, ops);
  else app.get('/healthz', async () => ({ status: 'ok' }));
  if (ingest.close) app.addHook('onClose', async () => ingest.close?.());
  return app;
}
