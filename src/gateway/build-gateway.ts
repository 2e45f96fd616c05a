// Builds the public API from its plugins. main and the tests both call this, so what is tested is what runs.
import rateLimit from '@fastify/rate-limit';
import { logRequestsAtDebug, quietRequestLogController } from '../http/request-log.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from '../config/logger.js';
import type { Database } from '../db/postgres.js';
import type { Ingest } from '../ingest/envelope.js';
import type { ApiKeyVerifier } from './api-keys.js';
import { authPlugin } from './plugins/auth.js';
import { idempotencyPlugin } from './plugins/idempotency.js';
import { openapiPlugin } from './plugins/openapi.js';
import { HttpProblem, problemPlugin } from './plugins/problem.js';
import { adminRoutes } from './routes/admin.js';
import { transactionsRoutes } from './routes/transactions.js';
import type { Metrics } from '../ops/metrics.js';
import { opsRoutes } from '../ops/ops-routes.js';
import type { Readiness } from '../ops/readiness.js';

export interface GatewayOptions {
  ingest: Ingest;
  apiKeys: ApiKeyVerifier;
  /** PostgreSQL: idempotency keys and the structured transactions the read routes return. */
  db: Database;
  logger: Logger;
  bodyLimitBytes: number;
  batchBodyLimitBytes?: number;
  batchIngestMax?: number;
  publicBaseUrl?: string;
  idempotencyTtlMs?: number;
  rateLimitPerMinute?: number;
  requestTimeoutMs?: number;
  /** /healthz, /readyz and /metrics. */
  ops?: { metrics: Metrics; readiness: Readiness };
}

export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'gateway' }) as FastifyBaseLogger,
    bodyLimit: Math.max(options.bodyLimitBytes, options.batchBodyLimitBytes ?? 0),
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    requestIdHeader: 'x-request-id',
    logController: quietRequestLogController(),
    // Prototype-poisoning keys in a body are a client error, never silently stripped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  logRequestsAtDebug(app);

  // One body limit for single requests, a larger one for the batch route.
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= route.url === '/api/v1/transactions/batch' ? (options.batchBodyLimitBytes ?? options.bodyLimitBytes) : options.bodyLimitBytes;
  });

  await app.register(problemPlugin);
  await app.register(openapiPlugin);
  await app.register(authPlugin, { apiKeys: options.apiKeys });
  // Per API key, after authentication (so it is the key, not the address, that is limited).
  await app.register(rateLimit, {
    hook: 'preHandler',
    max: options.rateLimitPerMinute ?? 6_000,
    timeWindow: 60_000,
    keyGenerator: (request) => request.principal?.keyId ?? request.ip,
    allowList: (request) => !request.principal,
    errorResponseBuilder: (_request, context) =>
      new HttpProblem(429, 'rate-limited', `At most ${context.max} requests per minute per API key; retry after ${Math.ceil(context.ttl / 1000)} s.`),
  });
  await app.register(idempotencyPlugin, { db: options.db, ttlMs: options.idempotencyTtlMs ?? 86_400_000 });
  await app.register(transactionsRoutes, {
    ingest: options.ingest,
    db: options.db,
    publicBaseUrl: options.publicBaseUrl,
    batchIngestMax: options.batchIngestMax ?? 1_000,
  });
  await app.register(adminRoutes, { ingest: options.ingest });
  if (options.ops) await app.register(opsRoutes, options.ops);
  else app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  if (options.ingest.close) app.addHook('onClose', async () => options.ingest.close?.());
  return app;
}
