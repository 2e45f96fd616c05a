// Builds the public API from its plugins. main and the tests both call this, so what is tested is what runs.
import rateLimit from '@fastify/rate-limit';
import type { Collection } from 'mongodb';
import { loadSettings, type Settings } from '../config/config.js';
import type { Logger } from '../config/logger.js';
import type { Database } from '../db/postgres.js';
import { createHttpApp, type HttpApp } from '../http/create-http-app.js';
import { useJsonBodies } from '../http/json-body-parser.js';
import { HttpProblem } from '../http/problem.js';

import type { MongoCollections, Retention } from '../raw-store/collections.js';
import { countUnprocessed } from '../raw-store/count-unprocessed.js';
import { nextStatementRelease, storedStatementBytes } from '../raw-store/stored-statement-bytes.js';
import type { Resolve } from '../webhook-endpoints/address-guard.js';
import { createSystemResolve } from '../webhook-endpoints/system-resolve.js';
import type { IdempotencyDoc, TenantUsageDoc } from './accept-collections.js';
import type { ApiKeyVerifier } from './api-keys.js';
import { boardPage } from './board/board-page.js';
import { addTenantBytes, DailyBytes } from './daily-bytes.js';
import { guideRoutes } from './guide.js';
import type { Ingest } from './ingest-port.js';
import { authPlugin } from './plugins/auth.js';
import { idempotencyPlugin } from './plugins/idempotency.js';
import { collectMethods } from './plugins/method-not-allowed.js';
import { openapiPlugin } from './plugins/openapi.js';
import { BATCH_ROUTE, strictInputPlugin } from './plugins/strict-input.js';
import { adminRoutes } from './routes/admin/index.js';
import { eventsRoutes } from './routes/events.js';
import { statementsRoutes } from './routes/statements.js';
import { transactionsRoutes } from './routes/transactions.js';
import { webhookEndpointRoutes } from './routes/webhook-endpoints.js';
import { type STORED_STATEMENT_QUOTA, StatementQuota } from './statement-quota.js';
import { type QuotaKind, TenantQuotas } from './tenant-quotas.js';

/** The admin replay route, whose body holds ids rather than an envelope. */
const REPLAY_ROUTE = '/api/v1/admin/replay';

export interface GatewayOptions {
  ingest: Ingest;
  apiKeys: ApiKeyVerifier;
  /** MongoDB: the idempotency records (the accept path needs MongoDB alone). */
  idempotencyRecords: Collection<IdempotencyDoc>;
  /** MongoDB: each tenant's bytes accepted per day, shared by every gateway (TENANT_MAX_BYTES_PER_DAY). */
  tenantUsage: Collection<TenantUsageDoc>;
  /** PostgreSQL: the structured transactions the read routes return. */
  db: Database;
  logger: Logger;
  http: Settings['http'];
  gateway: Settings['gateway'];
  /** /healthz and /readyz, mounted by the caller (cli/) so the gateway need not know ops; /metrics is on the ops port. */
  ops?: (app: HttpApp) => Promise<void>;
  /** What the admin routes read and correct: the raw store's collections, and how long it keeps them. */
  admin: { mongo: MongoCollections; retention: Retention };
  /** A quota refusal, for the metrics and the board. */
  onQuotaRefused?: (tenantId: string, quota: QuotaKind | typeof STORED_STATEMENT_QUOTA) => void;
  /**
   * Webhook URLs: whether private addresses are allowed, how host names resolve (tests give their own), the
   * endpoints a tenant may have; unset, the settings' defaults.
   */
  webhooks?: { allowPrivateUrls: boolean; allowedHosts?: readonly string[]; resolve?: Resolve; maxEndpointsPerTenant?: number };
}

export async function buildGateway({ http, gateway, ...options }: GatewayOptions): Promise<HttpApp> {
  const app = await createGatewayApp(options.logger, http, gateway);
  const answerOtherMethods = collectMethods(app);
  await app.register(strictInputPlugin);
  await app.register(openapiPlugin);
  await registerAccessPlugins(app, gateway, options);
  const quotas = tenantQuotas(app, gateway, options);
  await registerResourceRoutes(app, http, gateway, options, quotas);
  await app.register(adminRoutes, { ingest: options.ingest, db: options.db, ...options.admin, quotas: () => quotas.view() });
  await app.register(boardPage);
  await app.register(guideRoutes);
  answerOtherMethods();
  if (options.ops) await options.ops(app);
  else app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  if (options.ingest.close) app.addHook('onClose', async () => options.ingest.close?.());
  return app;
}

type Rest = Omit<GatewayOptions, 'http' | 'gateway'>;

/** The HTTP app with the gateway's limits: body sizes per route, request deadline, trusted proxies. */
async function createGatewayApp(logger: Logger, http: Settings['http'], gateway: Settings['gateway']): Promise<HttpApp> {
  const app = await createHttpApp({
    logger,
    component: 'gateway',
    // The small limit wherever a route does not say otherwise (the batch and statement routes do), so nothing
    // unforeseen reads up to the largest route's limit.
    bodyLimit: http.bodyLimitBytes,
    requestTimeout: http.requestTimeoutMs,
    // request.ip, which the limit on requests without a valid key counts by, is the client's behind the proxies
    // TRUST_PROXY names, not the last proxy's (whose one address every client would share).
    trustProxy: gateway.trustProxy,
    // Found and refused with their path by the strict-input plugin instead.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
  });
  // One body limit for single requests, a larger one for the batch route.
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= route.url === '/api/v1/transactions/batch' ? http.batchBodyLimitBytes : http.bodyLimitBytes;
  });
  // Large JSON bodies (the batch route's above all) parsed in slices, with a tenant's share of places.
  useJsonBodies(app, http.jsonParsing, {
    envelopesAt: {
      [BATCH_ROUTE]: { depth: 3, path: (index) => `items.${index}` },
      // A replay's body is no envelope: its ids are bounded by its schema and JSON_MAX_VALUES, not by an envelope's count.
      [REPLAY_ROUTE]: { depth: Number.POSITIVE_INFINITY, path: () => 'body' },
    },
    placesFromBytes: http.bodyLimitBytes,
    // Bodies at or under the server-wide limit take no place: their bytes still count against the tenant's budget.
    inflight: http.inflightBodies,
  });
  return app;
}

/** Rate limits, authentication and idempotency, in the order they must run. */
async function registerAccessPlugins(app: HttpApp, gateway: Settings['gateway'], options: Rest): Promise<void> {
  // Per API key (so it is the key, not the address, that is limited): the auth plugin runs it as the last
  // onRequest step of every authenticated route, once the key is known and before the body is read (a key over
  // its limit never has a 16 or 32 MiB body read only to be told 429). Registered first, as the auth plugin
  // also limits requests without a valid key per address with the same store.
  await app.register(rateLimit, {
    global: false,
    max: gateway.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => request.principal?.keyId ?? request.ip,
    allowList: (request) => !request.principal,
    errorResponseBuilder: (_request, context) =>
      new HttpProblem(
        429,
        'rate-limited',
        `At most ${context.max} requests per minute per API key; retry after ${Math.ceil(context.ttl / 1000)} s.`,
      ),
  });
  await app.register(authPlugin, { apiKeys: options.apiKeys, unauthenticatedPerMinute: gateway.unauthenticatedPerMinute });
  await app.register(idempotencyPlugin, { records: options.idempotencyRecords, ttlMs: gateway.idempotencyTtlMs });
}

/** Each tenant's quotas, its daily bytes written before the gateway closes. */
function tenantQuotas(app: HttpApp, gateway: Settings['gateway'], options: Rest): TenantQuotas {
  const dailyBytes = new DailyBytes((adds) => addTenantBytes(options.tenantUsage, adds));
  // What this gateway accepted in its last second is written before it goes.
  app.addHook('onClose', async () => dailyBytes.stop().catch(() => undefined));
  return new TenantQuotas(gateway.quotas, {
    countWaiting: (tenantId, limit, withBytes) => countUnprocessed(options.admin.mongo.raw, tenantId, limit, withBytes),
    dailyBytes,
    onRefused: options.onQuotaRefused,
  });
}

/** The public resources: transactions, statements, events, webhook endpoints. */
async function registerResourceRoutes(
  app: HttpApp,
  http: Settings['http'],
  gateway: Settings['gateway'],
  options: Rest,
  quotas: TenantQuotas,
): Promise<void> {
  const admit = (tenantId: string, documents: number, bytes: number) => quotas.admit(tenantId, documents, bytes);
  await app.register(transactionsRoutes, {
    ingest: options.ingest,
    db: options.db,
    publicBaseUrl: gateway.publicBaseUrl,
    batchIngestMax: gateway.batchIngestMax,
    admit,
  });
  const { statements } = options.admin.mongo;
  const statementsSeconds = options.admin.retention.statementsSeconds ?? 0;
  const statementQuota = new StatementQuota(
    { ...gateway.quotas, retentionSeconds: statementsSeconds },
    {
      storedBytes: (tenantId) => storedStatementBytes(statements, tenantId, gateway.quotas.statementStoreTimeoutMs),
      nextRelease: (tenantId) => nextStatementRelease(statements, tenantId, statementsSeconds, gateway.quotas.statementStoreTimeoutMs),
    },
    { onRefused: options.onQuotaRefused },
  );
  await app.register(statementsRoutes, {
    statementQuota,
    ingest: options.ingest,
    db: options.db,
    publicBaseUrl: gateway.publicBaseUrl,
    bodyLimitBytes: http.statementBodyLimitBytes,
    parsing: http.statementParsing,
    admit,
  });
  await app.register(eventsRoutes, { db: options.db });
  // The schema's defaults, for a caller (a test) that gives no webhook settings.
  const webhookDefaults = loadSettings({}).webhooks;
  await app.register(webhookEndpointRoutes, {
    db: options.db,
    allowPrivateUrls: options.webhooks?.allowPrivateUrls ?? false,
    allowedHosts: options.webhooks?.allowedHosts,
    resolve: options.webhooks?.resolve ?? createSystemResolve({ timeoutMs: webhookDefaults.dnsTimeoutMs }),
    maxEndpointsPerTenant: options.webhooks?.maxEndpointsPerTenant ?? webhookDefaults.maxEndpointsPerTenant,
  });
}
