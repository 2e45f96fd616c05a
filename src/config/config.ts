// The one place that reads process.env: every variable validated at start-up (a wrong one stops the service
// with one line naming it) and translated once into nested camelCase settings; defaults live only here.
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { isTenantId } from '../domain/ids.js';
import { PROCESS_WORKER_ID } from './worker-id.js';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  );

/**
 * API_KEYS lists `tenant:key` pairs separated by commas. Keys are only ever kept hashed after parsing.
 */
/** `tenant:weight` pairs: a tenant's share of a batch relative to others' (1 when unnamed). */
const tenantWeights = z.string().transform((value, ctx) => {
  const weights = new Map<string, number>();
  for (const pair of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [tenantId = '', weight = ''] = pair.split(':').map((part) => part.trim());
    if (!isTenantId(tenantId) || !/^[1-9][0-9]{0,2}$/.test(weight)) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be comma-separated tenant:weight pairs, weight an integer 1-999 (e.g. acme:3,globex:1)',
      });
      return z.NEVER;
    }
    weights.set(tenantId, Number(weight));
  }
  return weights;
});

/** proxy-addr's (Fastify's) names for ranges, accepted in TRUST_PROXY beside addresses. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** One TRUST_PROXY entry: a range name, an address, or a CIDR (prefix 1 to the address's width; /0 is everyone). */
function isProxyRange(entry: string): boolean {
  if (PROXY_RANGE_NAMES.includes(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const width = ipaddr.IPv4.isValidFourPartDecimal(address) ? 32 : ipaddr.IPv6.isValid(address) && !address.includes('%') ? 128 : 0;
  if (width === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^[0-9]{1,3}$/.test(prefix) && Number(prefix) >= 1 && Number(prefix) <= width);
}

/**
 * TRUST_PROXY: whose X-Forwarded-For the gateway believes when it reads a client's address (Fastify's
 * trustProxy): `false`, or the proxies' addresses. Never `true` nor a hop count: either believes a client
 * that reaches the port directly, whatever address it claims.
 */
const trustProxy = z.string().transform((value, ctx): false | string[] => {
  const text = value.trim();
  if (text === 'false') return false;
  const refuse = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const instead = 'give the addresses or CIDRs of the proxies in front of the gateway (e.g. 10.0.0.0/8,fd00::/8)';
  if (text === 'true')
    return refuse(
      `must not be true: that believes every X-Forwarded-For entry, so any client picks its own address (and escapes the per-address limit) by sending one; ${instead}`,
    );
  if (/^[0-9]+$/.test(text))
    return refuse(
      `must not be a hop count: a client that reaches the port without the proxy would be believed whatever address it claims (Fastify ignores hop counts for this reason); ${instead}`,
    );
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0 || !entries.every(isProxyRange))
    return refuse(
      'must be false, or comma-separated proxy addresses or CIDRs (e.g. 10.0.0.0/8,fd00::/8; also loopback, linklocal, uniquelocal), no /0',
    );
  return entries;
});

const apiKeys = z.string().transform((value, ctx) => {
  const pairs = value
    .split(',')
    .map((pair) => pair.trim())
    .filter(Boolean);
  const entries: Array<{ tenantId: string; key: string }> = [];
  for (const pair of pairs) {
    const at = pair.indexOf(':');
    const tenantId = pair.slice(0, at).trim();
    const key = pair.slice(at + 1).trim();
    if (at <= 0 || !isTenantId(tenantId) || key.length < 16) {
      ctx.addIssue({
        code: 'custom',
        message: 'must be comma-separated tenant:key pairs, tenant [A-Za-z0-9_-], key at least 16 characters',
      });
      return z.NEVER;
    }
    entries.push({ tenantId, key });
  }
  return entries;
});

/**
 * The ops port of each role when OPS_PORT is unset; a process of several roles (`prismo start`, `--role
 * gateway,ingest`) takes the first of its roles in this order (the processor's for `prismo start`).
 */
export const OPS_PORT_DEFAULTS = { processor: 9464, deliverer: 9465, gateway: 9466, ingest: 9467 } as const;

/** The ops port a process of these roles listens on: OPS_PORT, else its first role's default. */
export function opsPortOf(configured: number | undefined, roles: readonly string[]): number {
  if (configured !== undefined) return configured;
  const role = (Object.keys(OPS_PORT_DEFAULTS) as Array<keyof typeof OPS_PORT_DEFAULTS>).find((name) => roles.includes(name));
  return OPS_PORT_DEFAULTS[role ?? 'processor'];
}

export const envSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3000),
  INGEST_PORT: port.default(3001),
  /**
   * /healthz, /readyz and /metrics of every process (the gateway's and ingestion's public ports serve no /metrics).
   * Unset: the port of the process's role (OPS_PORT_DEFAULTS), so roles run apart on one host never clash.
   */
  OPS_PORT: port.optional(),
  /** Where the ops port listens, apart from HOST: /metrics names tenants, so loopback unless Prometheus is elsewhere. */
  OPS_HOST: z.string().min(1).default('127.0.0.1'),
  /** Which proxies' X-Forwarded-For gives the gateway a client's address (docs/operations.md, "Behind a reverse proxy"); false: none. */
  TRUST_PROXY: trustProxy.default(false),
  INGEST_URL: url(['http:', 'https:']).optional(),
  /** The credential the gateway sends the ingestion service and the ingestion service requires (docs/operations.md, "Ports"). */
  INGEST_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Where the ingestion service listens: loopback unless the gateway runs on another host or container. */
  INGEST_HOST: z.string().min(1).default('127.0.0.1'),
  PUBLIC_BASE_URL: url(['http:', 'https:']).optional(),
  API_KEYS: apiKeys.optional(),
  BODY_LIMIT_BYTES: positiveInt.default(1_048_576),
  BATCH_BODY_LIMIT_BYTES: positiveInt.default(16 * 1_048_576),
  /** A camt.053 file (POST /api/v1/statements); a month of a busy account runs to tens of MB. */
  STATEMENT_BODY_LIMIT_BYTES: positiveInt.default(32 * 1_048_576),
  /**
   * Entries (<Ntry>) one statement upload may hold; past it, 413. The design's ceiling: the entries' de-duplication
   * keys are looked up in one `$in` query, which MongoDB caps at 16 MiB (up to ~400 bytes a key).
   */
  STATEMENT_MAX_ENTRIES: positiveInt
    .max(40_000, 'must be at most 40000, the most the design holds (one $in query over the entries, 16 MiB)')
    .default(40_000),
  /** Statement files parsed at once per service (in slices that let other requests run); the rest wait. */
  STATEMENT_PARSE_CONCURRENCY: positiveInt.max(64).default(2),
  /** Statement files waiting for a parse, per service; one more is a 503 with Retry-After. */
  STATEMENT_PARSE_QUEUE: z.coerce.number().int().min(0).default(16),
  /**
   * Statement uploads one tenant may have in progress at once, per service (its body being read, waiting for a
   * parse, parsed or stored); one more is a 429, so no tenant fills the places the others share.
   */
  STATEMENT_PARSE_PER_TENANT: positiveInt.max(1_000).default(4),
  /**
   * Keys and values (objects, arrays, strings, numbers, literals) one JSON body over 64 KiB may hold; past it,
   * 413 as it is read. A batch of 1,000 ordinary envelopes holds some 30,000; what follows parsing (the door's
   * checks, validation, sizing) costs in proportion to this number.
   */
  JSON_MAX_VALUES: positiveInt.min(40_000).default(100_000),
  /** Keys and values one envelope (a batch item, a single POST's body) over 64 KiB may hold; past it, 413. */
  JSON_MAX_ENVELOPE_VALUES: positiveInt.min(1_000).default(10_000),
  /** JSON bodies over 64 KiB parsed at once per service (in slices that let other requests run); the rest wait. */
  JSON_PARSE_CONCURRENCY: positiveInt.max(64).default(2),
  /** JSON bodies over BODY_LIMIT_BYTES waiting for a parse, per service; one more is a 503 with Retry-After before it is read. */
  JSON_PARSE_QUEUE: z.coerce.number().int().min(0).default(8),
  /**
   * JSON bodies over BODY_LIMIT_BYTES (the batch route's) one tenant may have in progress at once, per gateway (being
   * sent, parsed or handled); one more is a 429 with Retry-After before it is read.
   */
  JSON_PARSE_PER_TENANT: positiveInt.max(1_000).default(2),
  /** JSON bodies of any size over 64 KiB waiting for their parse in slices, per service; one more is a 503 with Retry-After. */
  JSON_SLICED_QUEUE: positiveInt.max(100_000).default(256),
  /** JSON bodies over 64 KiB and at most BODY_LIMIT_BYTES one tenant may have in progress per service; one more is 429 before reading. */
  JSON_SLICED_PER_TENANT: positiveInt.max(100_000).default(64),
  /**
   * Bytes of JSON request bodies one tenant may have in progress at once, per gateway (announced by Content-Length,
   * a chunked body counting as its route's limit; held from before the body is read until it is answered); past
   * it, 429 before reading. At least BATCH_BODY_LIMIT_BYTES + BODY_LIMIT_BYTES; the default holds two full
   * batches (JSON_PARSE_PER_TENANT) and 8 MiB of others.
   */
  TENANT_MAX_INFLIGHT_BODY_BYTES: positiveInt.max(Number.MAX_SAFE_INTEGER).default(40 * 1_048_576),
  /**
   * Bytes of JSON request bodies of up to 64 KiB one tenant may have in progress at once, per gateway (announced,
   * held until answered); past it, 429 before reading. Such bodies are parsed and checked at once, not in slices:
   * this bounds the event loop's work one tenant's burst of them queues ahead of every other request. At least
   * 64 KiB; the default holds some 1,000 typical transactions (~500 bytes) or 8 bodies of 64 KiB.
   */
  TENANT_MAX_INFLIGHT_SMALL_BODY_BYTES: positiveInt
    .min(64 * 1024)
    .max(Number.MAX_SAFE_INTEGER)
    .default(512 * 1024),
  /** Bytes of JSON request bodies in progress on one gateway, all tenants together; past it, 503 with Retry-After before reading. */
  MAX_INFLIGHT_BODY_BYTES: positiveInt.max(Number.MAX_SAFE_INTEGER).default(256 * 1_048_576),
  /** One deadline for storing an uploaded statement (its file, every entry, the completion): past it, 503. */
  STATEMENT_STORE_TIMEOUT_MS: positiveInt.default(30_000),
  BATCH_INGEST_MAX: positiveInt.max(10_000).default(1_000),
  /** Single POSTs stored together: those accepted before the next timers turn of the event loop, up to this many per insertMany (1: one insertOne each). */
  INGEST_COALESCE_MAX_DOCS: positiveInt.max(10_000).default(256),
  IDEMPOTENCY_TTL_MS: positiveInt.default(86_400_000),
  RATE_LIMIT_PER_MINUTE: positiveInt.default(6_000),
  /** Per client address: requests without a valid API key (missing, unknown, revoked) before 429. */
  UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE: positiveInt.default(120),
  /** Per tenant: documents accepted per second (a token bucket, a second's burst) and documents not yet processed. */
  TENANT_DOCS_PER_SECOND: positiveInt.default(50_000),
  TENANT_MAX_UNPROCESSED: positiveInt.default(2_000_000),
  /**
   * Per tenant, in bytes (payloads as stored, BSON; a statement upload: its file, statements document and entries as stored): accepted per UTC day (a
   * counter in MongoDB shared by the gateways), and stored in documents not yet processed (docs/api.md).
   */
  TENANT_MAX_BYTES_PER_DAY: positiveInt.max(Number.MAX_SAFE_INTEGER).default(64 * 1_073_741_824),
  TENANT_MAX_WAITING_BYTES: positiveInt.max(Number.MAX_SAFE_INTEGER).default(4 * 1_073_741_824),
  /**
   * Per tenant, in bytes: what its uploaded statements keep stored (their files in GridFS and their statements
   * documents, as stored), until retention (RETENTION_STATEMENTS_SECONDS) or the abandoned-file sweep removes them.
   */
  TENANT_MAX_STORED_STATEMENT_BYTES: positiveInt.max(Number.MAX_SAFE_INTEGER).default(64 * 1_073_741_824),
  /** Fastify's requestTimeout: how long a client may take to send a whole request (Node answers 408 past it); not the handler's work. */
  REQUEST_TIMEOUT_MS: positiveInt.default(30_000),
  API_KEY_CACHE_MS: z.coerce.number().int().min(0).default(30_000),
  MONGODB_URI: url(['mongodb:', 'mongodb+srv:']).optional(),
  MONGODB_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be 1-63 of [A-Za-z0-9_-]')
    .default('prismo'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  PG_POOL_MAX: positiveInt.default(10),
  /** The longest one PostgreSQL statement of a service may run (statement_timeout); 0: no limit. Migrations have none. */
  PG_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  /** How long opening a PostgreSQL connection may take. */
  PG_CONNECT_TIMEOUT_MS: positiveInt.max(600_000).default(5_000),
  /** How long MongoDB keeps processed raw documents, and processing_logs entries; 30 days each by default. */
  RETENTION_PROCESSED_SECONDS: positiveInt.default(30 * 86_400),
  RETENTION_LOGS_SECONDS: positiveInt.default(30 * 86_400),
  /**
   * How long MongoDB keeps uploaded statements (their document from when its last entry settled, died or was
   * replayed; their file in GridFS from its upload) and dead raw documents (from when they died); 30 days each
   * by default, 0: for ever. A statement must outlive its entries (it holds their account): at least
   * RETENTION_PROCESSED_SECONDS and RETENTION_DEAD_SECONDS.
   */
  RETENTION_STATEMENTS_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(30 * 86_400),
  RETENTION_DEAD_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .default(30 * 86_400),
  POLL_INTERVAL_MS: positiveInt.default(5000),
  BATCH_MAX_WAIT_MS: positiveInt.default(20),
  BATCH_MAX_SIZE: positiveInt.max(10_000).default(500),
  /**
   * The most raw-document bytes (BSON) one batch holds; a claim gives back what would pass it. With
   * BATCH_CONCURRENCY it bounds a processor's memory in bytes (docs/operations.md sizes the heap from it).
   */
  BATCH_MAX_BYTES: positiveInt.min(65_536).default(8 * 1_048_576),
  BATCH_CONCURRENCY: positiveInt.max(16).default(4),
  LEASE_MS: positiveInt.default(60_000),
  MAX_ATTEMPTS: positiveInt.default(5),
  RETRY_BASE_MS: positiveInt.default(200),
  RETRY_MAX_MS: positiveInt.default(30_000),
  CHANGE_STREAM: z.enum(['on', 'off']).default('on'),
  /** Batches and the sweep serve tenants in turn (`off`: first come, first served, for comparison). */
  FAIR_SHARE: z.enum(['on', 'off']).default('on'),
  TENANT_WEIGHTS: tenantWeights.default(new Map()),
  /** While a quiet tenant's express batches run, the slots the other batches keep (BATCH_CONCURRENCY: all). */
  FAIR_SHARE_BACKLOG_SLOTS: positiveInt.max(16).default(1),
  CHECKPOINT_HEARTBEAT_MS: positiveInt.default(10_000),
  PROCESSOR_GROUP: z.string().min(1).default('default'),
  /** Unset: hostname-pid-random, drawn once per process (src/config/worker-id.ts). */
  WORKER_ID: z.string().min(1).default(PROCESS_WORKER_ID),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(15_000),
  /** How often a processor (one at a time, under a lease) reconciles the closed days that changed; 0: never. */
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(3_600),
  /** Every this many hours the scheduled run redoes every retained day, not only the changed ones. */
  RECONCILE_FULL_HOURS: positiveInt.default(24),
  /** Webhook URLs may resolve to loopback or private addresses (unset: yes under `prismo start`, no otherwise). */
  WEBHOOK_ALLOW_PRIVATE_URLS: z.enum(['true', 'false']).optional(),
  /** When set, the only hosts webhook URLs may name (comma-separated, e.g. hooks.example.com,127.0.0.1): others are refused before any lookup. */
  WEBHOOK_ALLOWED_HOSTS: z.string().min(1).optional(),
  /** One deadline for a whole delivery attempt (lookup, connection, the answer's head and body): past it, failed. */
  WEBHOOK_TIMEOUT_MS: positiveInt.default(10_000),
  /** A webhook host name's lookup (at creation and at each send) waits this long at most. */
  WEBHOOK_DNS_TIMEOUT_MS: positiveInt.max(60_000).default(2_000),
  /** Endpoints in delivery at once per deliverer, shared between tenants (each its share: docs/api.md, "Webhooks"). */
  WEBHOOK_CONCURRENCY: positiveInt.max(1_000).default(50),
  /** The most webhook endpoints one tenant may have (enabled or not). */
  WEBHOOK_MAX_ENDPOINTS: positiveInt.max(1_000).default(16),
  /** An endpoint failing for this long is disabled. */
  WEBHOOK_DISABLE_AFTER_HOURS: positiveInt.default(72),
  /** How long GET /api/v1/events keeps events for clients to re-read. */
  EVENTS_RETENTION_DAYS: positiveInt.default(30),
  /** A document waiting (pending or failed) longer than this is a reconciliation mismatch. */
  RECONCILE_WAITING_MINUTES: positiveInt.default(60),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATA_DIR: z.string().min(1).default('.prismo'),
  /** Log lines: human-readable on a terminal and JSON elsewhere (`auto`), or forced either way. */
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  /** The port of the embedded PostgreSQL that `npm start` runs when DATABASE_URL is unset. */
  EMBEDDED_PG_PORT: port.default(54329),
});

export type Env = z.infer<typeof envSchema>;

/** The environment as the services take it: grouped by who reads it, camelCase. */
function toSettings(env: Env) {
  return {
    http: httpSettings(env),
    gateway: gatewaySettings(env),
    ingest: {
      port: env.INGEST_PORT,
      host: env.INGEST_HOST,
      token: env.INGEST_TOKEN,
      coalesceMaxDocs: env.INGEST_COALESCE_MAX_DOCS,
      statementTimeoutMs: env.STATEMENT_STORE_TIMEOUT_MS,
    },
    processor: processorSettings(env),
    events: { retentionDays: env.EVENTS_RETENTION_DAYS },
    webhooks: webhookSettings(env),
    reconcile: {
      intervalMs: env.RECONCILE_INTERVAL_SECONDS * 1000,
      fullEveryMs: env.RECONCILE_FULL_HOURS * 3_600_000,
      waitingThresholdMs: env.RECONCILE_WAITING_MINUTES * 60_000,
    },
    mongo: {
      uri: env.MONGODB_URI,
      dbName: env.MONGODB_DB,
      retention: {
        processedSeconds: env.RETENTION_PROCESSED_SECONDS,
        logsSeconds: env.RETENTION_LOGS_SECONDS,
        statementsSeconds: env.RETENTION_STATEMENTS_SECONDS,
        deadSeconds: env.RETENTION_DEAD_SECONDS,
      },
    },
    postgres: {
      url: env.DATABASE_URL,
      poolMax: env.PG_POOL_MAX,
      embeddedPort: env.EMBEDDED_PG_PORT,
      timeouts: { statementMs: env.PG_STATEMENT_TIMEOUT_MS, connectMs: env.PG_CONNECT_TIMEOUT_MS },
    },
    ops: { port: env.OPS_PORT, host: env.OPS_HOST },
    log: { level: env.LOG_LEVEL, format: env.LOG_FORMAT },
    dataDir: env.DATA_DIR,
  };
}

/** What every HTTP service shares: body limits, statement parsing, request deadlines. */
function httpSettings(env: Env) {
  return {
    host: env.HOST,
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    batchBodyLimitBytes: env.BATCH_BODY_LIMIT_BYTES,
    statementBodyLimitBytes: env.STATEMENT_BODY_LIMIT_BYTES,
    statementParsing: {
      maxEntries: env.STATEMENT_MAX_ENTRIES,
      concurrency: env.STATEMENT_PARSE_CONCURRENCY,
      queueMax: env.STATEMENT_PARSE_QUEUE,
      perTenant: env.STATEMENT_PARSE_PER_TENANT,
    },
    jsonParsing: {
      maxValues: env.JSON_MAX_VALUES,
      maxEnvelopeValues: env.JSON_MAX_ENVELOPE_VALUES,
      concurrency: env.JSON_PARSE_CONCURRENCY,
      queueMax: env.JSON_PARSE_QUEUE,
      perTenant: env.JSON_PARSE_PER_TENANT,
      slicedQueueMax: env.JSON_SLICED_QUEUE,
      slicedPerTenant: env.JSON_SLICED_PER_TENANT,
    },
    inflightBodies: {
      perTenantBytes: env.TENANT_MAX_INFLIGHT_BODY_BYTES,
      totalBytes: env.MAX_INFLIGHT_BODY_BYTES,
      perTenantSmallBytes: env.TENANT_MAX_INFLIGHT_SMALL_BODY_BYTES,
    },
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
  };
}

/** The public API: its port, keys, rate limits and tenant quotas. */
function gatewaySettings(env: Env) {
  return {
    port: env.PORT,
    trustProxy: env.TRUST_PROXY,
    publicBaseUrl: env.PUBLIC_BASE_URL,
    /** A separately running ingestion service; unset, the gateway stores through the raw store itself. */
    ingestUrl: env.INGEST_URL,
    apiKeys: env.API_KEYS,
    apiKeyCacheMs: env.API_KEY_CACHE_MS,
    idempotencyTtlMs: env.IDEMPOTENCY_TTL_MS,
    rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
    unauthenticatedPerMinute: env.UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE,
    batchIngestMax: env.BATCH_INGEST_MAX,
    quotas: {
      docsPerSecond: env.TENANT_DOCS_PER_SECOND,
      maxWaiting: env.TENANT_MAX_UNPROCESSED,
      batchMax: env.BATCH_INGEST_MAX,
      maxBytesPerDay: env.TENANT_MAX_BYTES_PER_DAY,
      maxWaitingBytes: env.TENANT_MAX_WAITING_BYTES,
      maxStoredStatementBytes: env.TENANT_MAX_STORED_STATEMENT_BYTES,
      // Its check is part of storing an upload: under the same deadline as the rest.
      statementStoreTimeoutMs: env.STATEMENT_STORE_TIMEOUT_MS,
    },
  };
}

/** The processor: batching, leases, retries, fair share and its group. */
function processorSettings(env: Env) {
  return {
    pollIntervalMs: env.POLL_INTERVAL_MS,
    batchMaxWaitMs: env.BATCH_MAX_WAIT_MS,
    batchMaxSize: env.BATCH_MAX_SIZE,
    batchMaxBytes: env.BATCH_MAX_BYTES,
    batchConcurrency: env.BATCH_CONCURRENCY,
    leaseMs: env.LEASE_MS,
    maxAttempts: env.MAX_ATTEMPTS,
    retryBaseMs: env.RETRY_BASE_MS,
    retryMaxMs: env.RETRY_MAX_MS,
    changeStream: env.CHANGE_STREAM === 'on',
    fairShare: env.FAIR_SHARE === 'on',
    tenantWeights: env.TENANT_WEIGHTS,
    fairShareBacklogSlots: env.FAIR_SHARE_BACKLOG_SLOTS,
    checkpointHeartbeatMs: env.CHECKPOINT_HEARTBEAT_MS,
    group: env.PROCESSOR_GROUP,
    workerId: env.WORKER_ID,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
  };
}

/** Webhook delivery: which hosts it may reach, its deadlines and concurrency. */
function webhookSettings(env: Env) {
  return {
    allowPrivateUrls: env.WEBHOOK_ALLOW_PRIVATE_URLS === undefined ? undefined : env.WEBHOOK_ALLOW_PRIVATE_URLS === 'true',
    allowedHosts: env.WEBHOOK_ALLOWED_HOSTS?.split(',')
      .map((host) => host.trim().toLowerCase())
      .filter(Boolean),
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    dnsTimeoutMs: env.WEBHOOK_DNS_TIMEOUT_MS,
    concurrency: env.WEBHOOK_CONCURRENCY,
    maxEndpointsPerTenant: env.WEBHOOK_MAX_ENDPOINTS,
    disableAfterMs: env.WEBHOOK_DISABLE_AFTER_HOURS * 3_600_000,
  };
}

export type Settings = ReturnType<typeof toSettings>;
export type ProcessorSettings = Settings['processor'];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment; throws ConfigError with one line per wrong variable. */
export function parseEnv(env: Record<string, string | undefined> = process.env): Env {
  // Empty strings count as unset, as they do in most shells' `VAR= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = envSchema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const value = env[name];
        const shown =
          name === 'API_KEYS' || name === 'INGEST_TOKEN' || name.endsWith('_URI') || name.endsWith('_URL')
            ? ''
            : ` (got ${JSON.stringify(value)})`;
        return `${name}: ${issue.message}${shown}`;
      }),
    );
  }
  const crossed = crossCheck(result.data);
  if (crossed.length > 0) throw new ConfigError(crossed);
  return result.data;
}

/** Rules between variables, one line each like the others. */
function crossCheck(env: Env): string[] {
  return [...retentionCheck(env), ...inflightCheck(env)];
}

/** A tenant's budget of body bytes holds a full batch and a single body; the gateway's, a tenant's. */
function inflightCheck(env: Env): string[] {
  const { TENANT_MAX_INFLIGHT_BODY_BYTES: perTenant, MAX_INFLIGHT_BODY_BYTES: total } = env;
  const least = env.BATCH_BODY_LIMIT_BYTES + env.BODY_LIMIT_BYTES;
  const problems: string[] = [];
  if (perTenant < least)
    problems.push(
      `TENANT_MAX_INFLIGHT_BODY_BYTES: must be at least BATCH_BODY_LIMIT_BYTES + BODY_LIMIT_BYTES (${least}), so that a full batch and a single body of one tenant fit at once (got ${JSON.stringify(String(perTenant))})`,
    );
  if (total < perTenant)
    problems.push(
      `MAX_INFLIGHT_BODY_BYTES: must be at least TENANT_MAX_INFLIGHT_BODY_BYTES (${perTenant}), or one tenant's budget could never be used (got ${JSON.stringify(String(total))})`,
    );
  const slicedPlaces = env.JSON_SLICED_QUEUE + env.JSON_PARSE_CONCURRENCY;
  if (env.JSON_SLICED_PER_TENANT >= slicedPlaces)
    problems.push(
      `JSON_SLICED_PER_TENANT: must be less than JSON_SLICED_QUEUE + JSON_PARSE_CONCURRENCY (${slicedPlaces}), or one tenant could take every place the others wait for (got ${JSON.stringify(String(env.JSON_SLICED_PER_TENANT))})`,
    );
  return problems;
}

/** Statements outlive their entries. */
function retentionCheck(env: Env): string[] {
  const { RETENTION_STATEMENTS_SECONDS: statements, RETENTION_DEAD_SECONDS: dead, RETENTION_PROCESSED_SECONDS: processed } = env;
  // Entries are stored without their account, which their statement holds. A statement's retention starts
  // again whenever one of its entries settles, dies or is replayed (retain-statements.ts), so when it is at
  // least as long as theirs it outlives every entry: the processor (a replay), reconciliation and the board
  // can still map them.
  const longest = dead === 0 ? 0 : Math.max(dead, processed);
  if (statements !== 0 && (longest === 0 || statements < longest))
    return [
      `RETENTION_STATEMENTS_SECONDS: must be at least RETENTION_PROCESSED_SECONDS and RETENTION_DEAD_SECONDS (${longest === 0 ? '0, for ever' : longest}), so that a statement, kept that long after its last entry settled, died or was replayed, outlives its entries, which read their account from it (got ${JSON.stringify(String(statements))})`,
    ];
  return [];
}

/** The validated environment as nested settings (see parseEnv for the errors). */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
  return toSettings(parseEnv(env));
}
