// Composes the services from a Config: the gateway (in-process ingestion or INGEST_URL), the ingestion
// service, the processor, or all three in one process. The CLI and the end-to-end tests both start the
// system through here, so what the tests run is what ships.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from '../config/config.js';
import type { Logger } from '../config/logger.js';
import { connectMongo, ensureMongoIndexes, type MongoConnection } from '../db/mongo.js';
import { connectPostgres, type Database } from '../db/postgres.js';
import { combineVerifiers, createDatabaseVerifier, createStaticVerifier, type ApiKeyEntry } from '../gateway/api-keys.js';
import { buildGateway } from '../gateway/build-gateway.js';
import type { Ingest } from '../ingest/envelope.js';
import { createHttpIngest } from '../ingest/http-client.js';
import { createMongoIngest } from '../ingest/raw-store.js';
import { buildIngestServer } from '../ingest/server.js';
import { createMetrics, type Metrics } from '../ops/metrics.js';
import { opsRoutes } from '../ops/ops-routes.js';
import { createReadiness } from '../ops/readiness.js';
import { startProcessor, type Processor } from '../processor/run-processor.js';

export type Role = 'gateway' | 'ingest' | 'processor';

export interface SystemOptions {
  config: Config;
  logger: Logger;
  roles: Role[];
  /** Resolved connection strings: the CLI may have started embedded servers in place of the config's. */
  mongoUri?: string;
  databaseUrl?: string;
  apiKeys?: ApiKeyEntry[];
  /** Reported by /readyz beside the MongoDB check (the development MongoDB says it is not MongoDB). */
  mongoNotice?: string;
}

export interface System {
  gatewayUrl?: string;
  ingestUrl?: string;
  /** The processor's own /healthz, /readyz, /metrics when it runs without the gateway or ingestion. */
  opsUrl?: string;
  processor?: Processor;
  metrics?: Metrics;
  mongo?: MongoConnection;
  db?: Database;
  /** Stops taking requests and work, drains the processor, closes connections. */
  stop(): Promise<void>;
}

export class StartupError extends Error {}

const addressOf = (app: FastifyInstance) => {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return String(address);
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
};

export async function startSystem(options: SystemOptions): Promise<System> {
  const { config, logger, roles } = options;
  const stops: Array<() => Promise<unknown>> = [];
  const system: System = {
    stop: async () => {
      for (const stop of stops.reverse()) await stop().catch((error: unknown) => logger.error({ err: error }, 'error while stopping'));
    },
  };
  try {
    const needsMongo = roles.includes('ingest') || roles.includes('processor') || (roles.includes('gateway') && !config.INGEST_URL);
    if (needsMongo) {
      if (!options.mongoUri) throw new StartupError('MONGODB_URI is not set: point it at a MongoDB replica set, e.g. mongodb://localhost:27017/?replicaSet=rs0');
      system.mongo = await connectMongo(options.mongoUri, config.MONGODB_DB);
      stops.push(() => system.mongo!.close());
      await ensureMongoIndexes(system.mongo);
    }
    const metrics = createMetrics();
    system.metrics = metrics;
    const ingest: Ingest | undefined = system.mongo ? countAccepted(createMongoIngest(system.mongo.raw), metrics) : undefined;

    const needsPostgres = roles.includes('processor') || roles.includes('gateway');
    if (needsPostgres) {
      if (!options.databaseUrl) {
        throw new StartupError(
          'DATABASE_URL is not set: point it at PostgreSQL, e.g. postgres://user:pass@localhost:5432/prismo (the processor writes there; the gateway keeps API and idempotency keys there and reads transactions back)',
        );
      }
      system.db = connectPostgres(options.databaseUrl, { max: config.PG_POOL_MAX, applicationName: `prismo-${roles.join('+')}-${config.WORKER_ID}` });
      const db = system.db;
      stops.push(() => db.$pool.end());
    }
    if (roles.includes('processor')) {
      system.processor = await startProcessor(system.mongo!, system.db!, config, logger);
      const processor = system.processor;
      stops.push(() => processor.stop());
      processor.outcomes$.subscribe((outcome) => {
        metrics.outcomes.inc({ outcome: 'processed' }, outcome.processed);
        metrics.outcomes.inc({ outcome: 'failed' }, outcome.failed);
        metrics.outcomes.inc({ outcome: 'dead' }, outcome.dead);
        metrics.sweepHits.inc(outcome.sweepHits);
        metrics.batchSize.observe(outcome.claimed);
        metrics.batchDuration.observe(outcome.durationMs / 1000);
      });
    }
    const ops = { metrics, readiness: createReadiness({ mongo: system.mongo, db: system.db, processor: system.processor, metrics, mongoNotice: options.mongoNotice }) };

    if (roles.includes('ingest')) {
      const app = await buildIngestServer({ ingest: ingest!, logger, bodyLimitBytes: Math.max(config.BODY_LIMIT_BYTES, config.BATCH_BODY_LIMIT_BYTES) + 65_536, ops });
      await app.listen({ host: config.HOST, port: config.INGEST_PORT });
      stops.push(() => app.close());
      system.ingestUrl = addressOf(app);
    }
    if (roles.includes('gateway')) {
      const keys = options.apiKeys ?? config.API_KEYS ?? [];
      const remote = roles.includes('ingest') ? undefined : config.INGEST_URL;
      const app = await buildGateway({
        ingest: remote ? createHttpIngest(remote) : ingest!,
        apiKeys: combineVerifiers(createStaticVerifier(keys), createDatabaseVerifier(system.db!, { cacheMs: config.API_KEY_CACHE_MS })),
        db: system.db!,
        logger,
        bodyLimitBytes: config.BODY_LIMIT_BYTES,
        batchBodyLimitBytes: config.BATCH_BODY_LIMIT_BYTES,
        batchIngestMax: config.BATCH_INGEST_MAX,
        publicBaseUrl: config.PUBLIC_BASE_URL,
        idempotencyTtlMs: config.IDEMPOTENCY_TTL_MS,
        rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
        requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
        ops,
      });
      await app.listen({ host: config.HOST, port: config.PORT });
      stops.push(() => app.close());
      system.gatewayUrl = addressOf(app);
    }
    // A processor on its own still answers health checks and scrapes.
    if (roles.length === 1 && roles[0] === 'processor') {
      const app = Fastify({ loggerInstance: logger.child({ component: 'ops' }) as FastifyBaseLogger, disableRequestLogging: true });
      await app.register(opsRoutes, ops);
      await app.listen({ host: config.HOST, port: config.OPS_PORT });
      stops.push(() => app.close());
      system.opsUrl = addressOf(app);
    }
    return system;
  } catch (error) {
    await system.stop();
    throw error;
  }
}

/** Counts stored raw documents where they are stored, so split deployments do not count them twice. */
function countAccepted(ingest: Ingest, metrics: Metrics): Ingest {
  return {
    ...ingest,
    async accept(tenantId, envelope) {
      const accepted = await ingest.accept(tenantId, envelope);
      if (!accepted.duplicate) metrics.rawAccepted.inc({ source: envelope.source });
      return accepted;
    },
    async acceptMany(tenantId, envelopes) {
      const results = await ingest.acceptMany(tenantId, envelopes);
      results.forEach((result, i) => {
        if ('id' in result && !result.duplicate) metrics.rawAccepted.inc({ source: envelopes[i]!.source });
      });
      return results;
    },
  };
}
