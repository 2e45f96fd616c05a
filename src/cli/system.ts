// The composition root: builds the services a process runs from the settings and wires the ports between them;
// the CLI and the end-to-end tests both start the system here, so what the tests run is what ships.
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { opsPortOf, type Settings } from '../config/config.js';
import type { Logger } from '../config/logger.js';
import { connectPostgres, type Database } from '../db/postgres.js';
import { acceptCollections, ensureAcceptIndexes } from '../gateway/accept-collections.js';
import { type ApiKeyEntry, combineVerifiers, createStaticVerifier, createStoredKeyVerifier } from '../gateway/api-keys.js';
import { buildGateway } from '../gateway/build-gateway.js';
import { createHttpIngest } from '../gateway/ingest-client.js';
import type { Ingest } from '../gateway/ingest-port.js';
import { addressOf, createHttpApp, type HttpApp } from '../http/create-http-app.js';
import { createMongoIngest } from '../ingest/mongo-ingest.js';
import { buildIngestServer } from '../ingest/server.js';
import { createMetrics, type Metrics, quotaRefusalCounter } from '../ops/metrics.js';
import { opsRoutes } from '../ops/ops-routes.js';
import { startProcessorReports } from '../ops/processor-reports.js';
import { createProcessorTracker, type ProcessorTracker } from '../ops/processor-tracker.js';
import { createReadiness } from '../ops/readiness.js';
import { createWebhookTracker } from '../ops/webhook-tracker.js';
import { deliveryFigures } from '../pg-store/delivery-figures.js';
import { reconciliationFigures } from '../pg-store/reconciliation-figures.js';
import { startEventRetention } from '../processor/event-retention.js';
import { ProcessorEvents } from '../processor/events.js';
import { startFailureEventRelay } from '../processor/relay-failure-events.js';
import { type Processor, startProcessor } from '../processor/start.js';
import { startStatementEvents } from '../processor/statement-events.js';
import { startStatementFileRetention } from '../processor/statement-file-retention.js';
import { startStatementFileSweep } from '../processor/statement-file-sweep.js';
import { backlogFigures } from '../raw-store/backlog.js';
import { connectMongo, ensureMongoIndexes, type MongoConnection } from '../raw-store/collections.js';
import { ensureGridFsIndexes } from '../raw-store/statement-files.js';
import { ReconcileEvents } from '../reconcile/events.js';
import { logReconcileEvents } from '../reconcile/log-events.js';
import { startReconcileSchedule } from '../reconcile/schedule.js';
import { createSystemResolve } from '../webhook-endpoints/system-resolve.js';
import { startDeliverer } from '../webhooks/deliver.js';
import { WebhookEvents } from '../webhooks/events.js';
import { listenForEvents } from '../webhooks/listen.js';
import { logWebhookEvents } from '../webhooks/log-events.js';
import { startDeliveryRetention } from '../webhooks/retention.js';
import { StartupError } from './context.js';

export type Role = 'gateway' | 'ingest' | 'processor' | 'deliverer';

export interface SystemOptions {
  settings: Settings;
  logger: Logger;
  roles: Role[];
  /** Resolved connection strings: the CLI may have started embedded servers in place of the settings'. */
  mongoUri?: string;
  databaseUrl?: string;
  apiKeys?: ApiKeyEntry[];
  /** Reported by /readyz beside the MongoDB check (the development MongoDB says it is not MongoDB). */
  mongoNotice?: string;
}

export interface System {
  gatewayUrl?: string;
  ingestUrl?: string;
  /** This process's /healthz, /readyz and /metrics on OPS_PORT: the only place /metrics is served. */
  opsUrl?: string;
  processor?: Processor;
  /** The deliverer's events (the deliverer role), as processor.events are the processor's. */
  webhooks?: WebhookEvents;
  metrics: Metrics;
  /** Every role but the deliverer, which needs PostgreSQL alone. */
  mongo?: MongoConnection;
  db?: Database;
  /** Stops taking requests and work, drains the processor, closes connections. */
  stop(): Promise<void>;
}

/** Opens resources as plugins of one root that closes them, in reverse order, when it closes. */
function createOwner(root: FastifyInstance, settings: Settings, logger: Logger) {
  /** Opens a resource as a plugin of the root that closes it when the root closes. */
  const own = async <T>(name: string, open: () => Promise<T>, close: (value: T) => Promise<unknown>): Promise<T> => {
    let value!: T;
    await root.register(
      fp(
        async (instance) => {
          value = await open();
          instance.addHook('onClose', async () => {
            await close(value).catch((error: unknown) => logger.error({ err: error, resource: name }, 'error while stopping'));
          });
        },
        { name },
      ),
    );
    return value;
  };
  /** Builds an HTTP service and listens; returns its address. */
  const listen = async (name: string, build: () => Promise<HttpApp>, port: number, host = settings.http.host) =>
    addressOf(
      await own(
        name,
        async () => {
          const app = await build();
          await app.listen({ host, port });
          return app;
        },
        (app) => app.close(),
      ),
    );
  return { own, listen };
}
type Owner = ReturnType<typeof createOwner>;

/**
 * Each resource is a plugin of one root Fastify instance that never listens: it closes itself in an onClose
 * hook, and Fastify runs those in reverse order, so stop() is simply root.close().
 */
export async function startSystem(options: SystemOptions): Promise<System> {
  const { settings, logger, roles } = options;
  const root: FastifyInstance = Fastify({ logger: false });
  const owner = createOwner(root, settings, logger);
  const metrics = createMetrics();
  let closing: Promise<void> | undefined;
  const stop = () => (closing ??= root.close());
  try {
    const { mongo, db } = await openDatabases(owner, options);
    const system: System = { metrics, mongo, db, stop };
    const ingest =
      mongo &&
      createMongoIngest(mongo, {
        onStored: (source) => metrics.rawAccepted.inc({ source }),
        coalesceMaxDocs: settings.ingest.coalesceMaxDocs,
        statementTimeoutMs: settings.ingest.statementTimeoutMs,
      });
    const processing = roles.includes('processor') && mongo && db ? await startProcessing(owner, options, mongo, db, metrics) : undefined;
    system.processor = processing?.processor;
    if (roles.includes('deliverer') && db) system.webhooks = await startDelivery(owner, options, db, metrics);
    const readiness = readinessOf(options, { mongo, db, metrics, processor: processing?.tracker });
    // The public and internal ports answer /healthz and /readyz (cached) but never /metrics, whose labels name
    // tenants and endpoints: that is on the ops port alone, which must not be published.
    const ops = async (app: HttpApp) => {
      await app.register(opsRoutes, { metrics, readiness, scrape: false });
    };
    const ingestToken = resolveIngestToken(settings, roles);
    if (roles.includes('ingest') && ingest) {
      const bodyLimitBytes = Math.max(settings.http.bodyLimitBytes, settings.http.batchBodyLimitBytes) + 65_536;
      const { statementBodyLimitBytes, statementParsing, jsonParsing, requestTimeoutMs } = settings.http;
      const build = () =>
        buildIngestServer({
          ingest,
          logger,
          bodyLimitBytes,
          statementBodyLimitBytes,
          statementParsing,
          jsonParsing,
          requestTimeoutMs,
          token: ingestToken,
          ops,
        });
      system.ingestUrl = await owner.listen('ingest-server', build, settings.ingest.port, settings.ingest.host);
    }
    if (roles.includes('gateway') && mongo && ingest && db)
      system.gatewayUrl = await startGateway(owner, options, { mongo, db, ingest, ingestToken, ops, metrics });
    const buildOps = async () => {
      const app = await createHttpApp({ logger, component: 'ops' });
      await app.register(opsRoutes, { metrics, readiness });
      return app;
    };
    // On OPS_HOST, not HOST: publishing the API (HOST=0.0.0.0) must not publish /metrics with it.
    system.opsUrl = await owner.listen('ops-server', buildOps, opsPortOf(settings.ops.port, roles), settings.ops.host);
    return system;
  } catch (error) {
    await root.close().catch(() => undefined);
    throw error;
  }
}

/** /healthz, /readyz and the scrape-time figures of /metrics, from the rooms that own them (ops/ reads no store itself). */
function readinessOf(
  { roles, mongoNotice }: SystemOptions,
  { mongo, db, metrics, processor }: { mongo?: MongoConnection; db?: Database; metrics: Metrics; processor?: ProcessorTracker },
) {
  return createReadiness({
    mongo,
    db,
    // A gateway and ingestion accept with MongoDB alone; a processor or a deliverer cannot work without PostgreSQL.
    postgresRequired: roles.includes('processor') || roles.includes('deliverer'),
    processor,
    metrics,
    mongoNotice,
    figures: {
      backlog: mongo && (() => backlogFigures(mongo)),
      reconciliation: db && (() => reconciliationFigures(db)),
      deliveries: roles.includes('deliverer') && db ? () => deliveryFigures(db) : undefined,
    },
  });
}

/**
 * INGEST_TOKEN, required where the ingestion service and the gateway run apart. Where both run in this process
 * the gateway stores in-process and nobody needs the port: without a token, one of its own that no one knows.
 */
function resolveIngestToken(settings: Settings, roles: Role[]): string {
  if (settings.ingest.token) return settings.ingest.token;
  const apart = roles.includes('ingest') !== roles.includes('gateway');
  if (apart && (roles.includes('ingest') || settings.gateway.ingestUrl))
    throw new StartupError(
      'INGEST_TOKEN is not set: the ingestion service answers only requests carrying it; give the gateway and ingestion the same secret (at least 16 characters)',
    );
  return randomBytes(32).toString('base64url');
}

/**
 * MongoDB for every role but the deliverer (the raw store; the gateway's keys and idempotency records);
 * PostgreSQL for the processor's writes, the gateway's reads and the deliverer's events.
 */
async function openDatabases(owner: Owner, { settings, roles, mongoUri, databaseUrl }: SystemOptions) {
  let mongo: MongoConnection | undefined;
  if (roles.some((role) => role !== 'deliverer')) {
    if (!mongoUri)
      throw new StartupError('MONGODB_URI is not set: point it at a MongoDB replica set, e.g. mongodb://localhost:27017/?replicaSet=rs0');
    mongo = await owner.own(
      'mongodb',
      () => connectMongo(mongoUri, settings.mongo.dbName),
      (connection) => connection.close(),
    );
    await ensureMongoIndexes(mongo, settings.mongo.retention);
    await ensureGridFsIndexes(mongo.db);
  }
  if (roles.every((role) => role === 'ingest')) return { mongo, db: undefined };
  if (!databaseUrl) {
    throw new StartupError(
      'DATABASE_URL is not set: point it at PostgreSQL, e.g. postgres://user:pass@localhost:5432/prismo (the processor writes there; the gateway reads transactions back from there; the deliverer reads events there)',
    );
  }
  const applicationName = `prismo-${roles.join('+')}-${settings.processor.workerId}`;
  const db = await owner.own(
    'postgresql',
    async () => connectPostgres(databaseUrl, { max: settings.postgres.poolMax, applicationName, timeouts: settings.postgres.timeouts }),
    (pool) => pool.$pool.end(),
  );
  return { mongo, db };
}

/** The processor, its events feeding the tracker that ops reads, and its reports to the board. */
async function startProcessing(owner: Owner, options: SystemOptions, mongo: MongoConnection, db: Database, metrics: Metrics) {
  const { settings, logger } = options;
  const tracker = createProcessorTracker(metrics);
  const { workerId, group } = settings.processor;
  await owner.own(
    'processor-reports',
    async () => startProcessorReports({ tracker, mongo, workerId, group, logger }),
    (publisher) => publisher.stop(),
  );
  const processor = await owner.own(
    'processor',
    () => startProcessor(mongo, db, settings.processor, logger, trackedEvents(tracker)),
    (running) => running.stop(),
  );
  await startProcessorChores(owner, options, mongo, db);
  return { tracker, processor };
}

/** The processor's events, each feeding the tracker. */
function trackedEvents(tracker: ProcessorTracker): ProcessorEvents {
  const events = new ProcessorEvents();
  events.on('started', tracker.started);
  events.on('batch', tracker.batch);
  events.on('change-seen', tracker.changeSeen);
  events.on('checkpoint', tracker.checkpoint);
  events.on('mode-changed', tracker.modeChanged);
  events.on('stream-restarted', tracker.streamRestarted);
  events.on('stream-reconnecting', tracker.streamReconnecting);
  events.on('stage-retry', tracker.stageRetry);
  events.on('stage-retry-ended', tracker.stageRetryEnded);
  return events;
}

/** What runs beside the processor: event relays, sweeps and retention, and reconciliation when scheduled. */
async function startProcessorChores(owner: Owner, options: SystemOptions, mongo: MongoConnection, db: Database) {
  const { settings, logger } = options;
  await owner.own(
    'failure-events',
    async () => startFailureEventRelay(mongo, db, logger),
    (relay) => relay.stop(),
  );
  await owner.own(
    'statement-events',
    async () => startStatementEvents(mongo, db, logger),
    (chore) => chore.stop(),
  );
  await owner.own(
    'statement-file-sweep',
    async () => startStatementFileSweep(mongo, logger),
    (sweep) => sweep.stop(),
  );
  await owner.own(
    'event-retention',
    async () => startEventRetention(db, settings.events.retentionDays, logger),
    (retention) => retention.stop(),
  );
  await owner.own(
    'statement-file-retention',
    () => startStatementFileRetention(mongo.db, settings.mongo.retention.statementsSeconds, logger),
    (retention) => retention.stop(),
  );
  if (settings.reconcile.intervalMs > 0) await startReconciliation(owner, options, mongo, db);
}

/** The scheduled reconciliation, its events feeding its log lines (its /metrics figures are read from the stored runs). */
async function startReconciliation(owner: Owner, { settings, logger }: SystemOptions, mongo: MongoConnection, db: Database) {
  const events = new ReconcileEvents();
  logReconcileEvents(events, logger);
  await owner.own(
    'reconciliation',
    async () =>
      startReconcileSchedule({
        mongo,
        db,
        settings: { ...settings.reconcile, retentionSeconds: settings.mongo.retention.processedSeconds },
        worker: settings.processor.workerId,
        events,
      }),
    (schedule) => schedule.stop(),
  );
}

/**
 * The deliverer: webhook delivery woken by the events' notifications, its attempts' retention; all three
 * report through one WebhookEvents, which feeds the log lines and the metrics.
 */
async function startDelivery(owner: Owner, { settings, logger }: SystemOptions, db: Database, metrics: Metrics) {
  const events = new WebhookEvents();
  logWebhookEvents(events, logger);
  events.on('attempt', createWebhookTracker(metrics).attempt);
  const deliverer = await owner.own(
    'webhook-delivery',
    async () =>
      startDeliverer({
        db,
        worker: settings.processor.workerId,
        allowPrivateUrls: settings.webhooks.allowPrivateUrls ?? false,
        allowedHosts: settings.webhooks.allowedHosts,
        resolve: createSystemResolve({ timeoutMs: settings.webhooks.dnsTimeoutMs }),
        timeoutMs: settings.webhooks.timeoutMs,
        concurrency: settings.webhooks.concurrency,
        disableAfterMs: settings.webhooks.disableAfterMs,
        leaseMs: settings.processor.leaseMs,
        events,
      }),
    (running) => running.stop(),
  );
  await owner.own(
    'event-notifications',
    async () => listenForEvents(db, deliverer.wake, events),
    (listener) => listener.stop(),
  );
  await owner.own(
    'delivery-retention',
    async () => startDeliveryRetention(db, settings.events.retentionDays, events),
    (retention) => retention.stop(),
  );
  return events;
}

/** The gateway: API keys and idempotency in MongoDB, ingestion in-process or over HTTP, reads from PostgreSQL. */
async function startGateway(
  owner: Owner,
  { settings, logger, roles, apiKeys }: SystemOptions,
  {
    mongo,
    db,
    ingest,
    ingestToken,
    ops,
    metrics,
  }: {
    mongo: MongoConnection;
    db: Database;
    ingest: Ingest;
    ingestToken: string;
    ops: (app: HttpApp) => Promise<void>;
    metrics: Metrics;
  },
): Promise<string> {
  const keys = apiKeys ?? settings.gateway.apiKeys ?? [];
  const onQuotaRefused = quotaRefusalCounter(metrics);
  const remote = roles.includes('ingest') ? undefined : settings.gateway.ingestUrl;
  const accept = acceptCollections(mongo.db);
  await ensureAcceptIndexes(accept);
  const build = () =>
    buildGateway({
      ingest: remote
        ? createHttpIngest(remote, { token: ingestToken, statementTimeoutMs: settings.ingest.statementTimeoutMs + 1_000 })
        : ingest,
      apiKeys: combineVerifiers(
        createStaticVerifier(keys),
        createStoredKeyVerifier(accept.apiKeys, { cacheMs: settings.gateway.apiKeyCacheMs }),
      ),
      idempotencyRecords: accept.idempotency,
      tenantUsage: accept.usage,
      db,
      logger,
      http: settings.http,
      gateway: settings.gateway,
      ops,
      admin: { mongo, retention: settings.mongo.retention },
      onQuotaRefused,
      webhooks: {
        allowPrivateUrls: settings.webhooks.allowPrivateUrls ?? false,
        allowedHosts: settings.webhooks.allowedHosts,
        resolve: createSystemResolve({ timeoutMs: settings.webhooks.dnsTimeoutMs }),
        maxEndpointsPerTenant: settings.webhooks.maxEndpointsPerTenant,
      },
    });
  return owner.listen('gateway', build, settings.gateway.port);
}
