// Builds the public API from its plugins. main and the tests both call this, so what is tested is what runs.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from '../config/logger.js';
import type { Ingest } from '../ingest/envelope.js';
import type { ApiKeyVerifier } from './api-keys.js';
import { authPlugin } from './plugins/auth.js';
import { problemPlugin } from './plugins/problem.js';
import { transactionsRoutes } from './routes/transactions.js';

export interface GatewayOptions {
  ingest: Ingest;
  apiKeys: ApiKeyVerifier;
  logger: Logger;
  bodyLimitBytes: number;
  publicBaseUrl?: string;
}

export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger.child({ component: 'gateway' }) as FastifyBaseLogger,
    bodyLimit: options.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    // Prototype-poisoning keys in a body are a client error, never silently stripped.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(problemPlugin);
  await app.register(authPlugin, { apiKeys: options.apiKeys });
  await app.register(transactionsRoutes, { ingest: options.ingest, publicBaseUrl: options.publicBaseUrl });
  app.get('/healthz', async () => ({ status: 'ok' }));
  if (options.ingest.close) app.addHook('onClose', async () => options.ingest.close?.());
  return app;
}
