// The Prometheus metrics of one process (prom-client), defined in one place so their names and meanings
// are reviewed together (docs/operations.md explains each and the alerts worth setting on them).
import { totalmem } from 'node:os';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  rawAccepted: Counter<'source'>;
  /** Requests refused by a tenant quota; `tenant` is one of the first QUOTA_TENANT_LABELS tenants refused, else "other". */
  quotaRefusals: Counter<'tenant' | 'quota'>;
  outcomes: Counter<'outcome'>;
  batchSize: Histogram;
  batchDuration: Histogram;
  sweepHits: Counter;
  streamRestarts: Counter;
  streamReconnects: Counter;
  /** Retries of a batch stage that is not about one document (the database away, ...): no cap, so watched here. */
  stageRetries: Counter<'stage'>;
  /** Webhook delivery attempts by endpoint (bounded like tenants) and outcome: delivered, failed. */
  webhookAttempts: Counter<'endpoint' | 'outcome'>;
  /** From an event's recording (in the transaction that commits it) to the receiver's 2xx. */
  webhookDelay: Histogram;
  /** Gauges computed at scrape time from the databases and the processor; set by whoever has them. */
  gauges: {
    backlog: Gauge;
    oldestUnprocessedAge: Gauge;
    failed: Gauge;
    dead: Gauge;
    streamLag: Gauge;
    resumeTokenAge: Gauge;
    /** How long a batch stage has been retrying without success (0 when none is). */
    stageRetrying: Gauge<'stage'>;
    /** Reconciliation's stored results (PostgreSQL): every service with DATABASE_URL reports the same. */
    reconciliationMismatches: Gauge<'kind'>;
    reconciliationLastDay: Gauge;
    reconciliationLastRun: Gauge;
    reconciliationLastRunDuration: Gauge;
    /** Webhook endpoints (PostgreSQL): every deliverer reports the same. */
    webhookPending: Gauge<'endpoint'>;
    webhookOldestPending: Gauge<'endpoint'>;
    webhookEndpoints: Gauge<'state'>;
  };
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'prismo_' });
  const registers = [registry];
  const metrics: Metrics = {
    registry,
    ...createHttpMetrics(registers),
    ...createProcessorMetrics(registers),
    ...createWebhookMetrics(registers),
    gauges: createGauges(registers),
  };
  createMemoryLimitGauge(registers);
  return metrics;
}

/**
 * The memory this process may use: its container's (cgroup's) limit, else the machine's memory. PrismoMemoryGrowing
 * compares the resident set's trend with it, so the alert can fire before a container limit kills the process.
 */
export function memoryLimitBytes(): number {
  // Node answers a huge number (2^64) or 0 where no limit is set.
  const constrained = process.constrainedMemory();
  return Math.min(constrained > 0 ? constrained : Number.POSITIVE_INFINITY, totalmem());
}

function createMemoryLimitGauge(registers: Registry[]): Gauge {
  return new Gauge({
    name: 'prismo_memory_limit_bytes',
    help: "The memory this process may use: its container's (cgroup) limit, else the machine's memory",
    registers,
    collect() {
      this.set(memoryLimitBytes());
    },
  });
}

/** The accepting side: HTTP requests, documents stored, quota refusals. */
function createHttpMetrics(registers: Registry[]) {
  return {
    httpRequests: new Counter({
      name: 'prismo_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    }),
    httpDuration: new Histogram({
      name: 'prismo_http_request_duration_seconds',
      help: 'HTTP request latency by route (the ingest latency on the POST routes)',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    rawAccepted: new Counter({
      name: 'prismo_raw_accepted_total',
      help: 'Raw documents stored (duplicates not counted)',
      labelNames: ['source'],
      registers,
    }),
    quotaRefusals: new Counter({
      name: 'prismo_quota_refusals_total',
      help: 'Requests refused with 429 by a tenant quota (rate: documents per second; waiting: documents not yet processed; waiting-bytes: their bytes; daily-bytes: bytes accepted per UTC day)',
      labelNames: ['tenant', 'quota'],
      registers,
    }),
  } as const;
}

/** The processor's batches, outcomes, sources and retries. */
function createProcessorMetrics(registers: Registry[]) {
  return {
    outcomes: new Counter({
      name: 'prismo_documents_total',
      help: 'Raw documents by processing outcome: processed, failed, dead',
      labelNames: ['outcome'],
      registers,
    }),
    batchSize: new Histogram({
      name: 'prismo_batch_size',
      help: 'Documents claimed per batch',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
      registers,
    }),
    batchDuration: new Histogram({
      name: 'prismo_batch_duration_seconds',
      help: 'Claim to the last recording stage (log or checkpoint), per batch (the commit latency)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    sweepHits: new Counter({
      name: 'prismo_sweep_hits_total',
      help: 'Documents the sweep found before the change stream did (missed by the stream)',
      registers,
    }),
    streamRestarts: new Counter({
      name: 'prismo_change_stream_restarts_total',
      help: 'Change stream restarted without a token (a gap the sweep covers)',
      registers,
    }),
    streamReconnects: new Counter({
      name: 'prismo_change_stream_reconnects_total',
      help: 'Change stream reconnects after errors',
      registers,
    }),
    stageRetries: new Counter({
      name: 'prismo_stage_retries_total',
      help: 'Retries of a batch stage (claim, write, mark-processed, mark-failed, log, checkpoint) that charge no document: a dependency away',
      labelNames: ['stage'],
      registers,
    }),
  } as const;
}

/** Webhook delivery attempts and their delay. */
function createWebhookMetrics(registers: Registry[]) {
  return {
    webhookAttempts: new Counter({
      name: 'prismo_webhook_attempts_total',
      help: 'Webhook delivery attempts by endpoint (the first 100 a deliverer sees, then "other") and outcome: delivered, failed',
      labelNames: ['endpoint', 'outcome'],
      registers,
    }),
    webhookDelay: new Histogram({
      name: 'prismo_webhook_delivery_delay_seconds',
      help: "From an event's recording (in the transaction that commits it) to the receiver's 2xx",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
      registers,
    }),
  } as const;
}

/** The gauges computed at scrape time. */
function createGauges(registers: Registry[]): Metrics['gauges'] {
  return {
    backlog: new Gauge({ name: 'prismo_backlog_documents', help: 'Raw documents waiting: unprocessed, pending or failed', registers }),
    oldestUnprocessedAge: new Gauge({
      name: 'prismo_oldest_unprocessed_age_seconds',
      help: 'Age of the oldest waiting raw document (0 when none)',
      registers,
    }),
    failed: new Gauge({ name: 'prismo_failed_documents', help: 'Raw documents failed and waiting for a retry', registers }),
    dead: new Gauge({ name: 'prismo_dead_documents', help: 'Raw documents dead-lettered', registers }),
    streamLag: new Gauge({
      name: 'prismo_change_stream_lag_seconds',
      help: 'Now minus the cluster time of the last change event seen',
      registers,
    }),
    resumeTokenAge: new Gauge({
      name: 'prismo_resume_token_age_seconds',
      help: 'Now minus when the resume token was last stored',
      registers,
    }),
    stageRetrying: new Gauge({
      name: 'prismo_stage_retrying_seconds',
      help: 'How long a batch stage has been retrying without success (0 when it is not)',
      labelNames: ['stage'],
      registers,
    }),
    reconciliationMismatches: new Gauge({
      name: 'prismo_reconciliation_mismatches',
      help: 'Mismatches in the stored reconciliation of every day, by kind (0 for each kind when none)',
      labelNames: ['kind'],
      registers,
    }),
    reconciliationLastDay: new Gauge({
      name: 'prismo_reconciliation_last_day_timestamp_seconds',
      help: 'Start (UTC midnight) of the latest day with a stored reconciliation',
      registers,
    }),
    reconciliationLastRun: new Gauge({
      name: 'prismo_reconciliation_last_run_timestamp_seconds',
      help: 'When the last reconciliation run that succeeded finished',
      registers,
    }),
    reconciliationLastRunDuration: new Gauge({
      name: 'prismo_reconciliation_last_run_duration_seconds',
      help: 'How long the last reconciliation run that succeeded took',
      registers,
    }),
    ...createWebhookGauges(registers),
  };
}

/** The webhook gauges, computed at scrape time from PostgreSQL by a deliverer. */
function createWebhookGauges(registers: Registry[]) {
  return {
    webhookPending: new Gauge({
      name: 'prismo_webhook_pending_events',
      help: 'Events waiting for a healthy endpoint (enabled, not failing; counted up to 10,000 each), the 20 with most, the rest as "other"',
      labelNames: ['endpoint'],
      registers,
    }),
    webhookOldestPending: new Gauge({
      name: 'prismo_webhook_oldest_pending_age_seconds',
      help: "Age of a healthy endpoint's oldest event waiting (0 when none); same endpoints as the pending gauge",
      labelNames: ['endpoint'],
      registers,
    }),
    webhookEndpoints: new Gauge({
      name: 'prismo_webhook_endpoints',
      help: 'Webhook endpoints by state: healthy, failing (retrying), disabled_by_failure, disabled (by an admin)',
      labelNames: ['state'],
      registers,
    }),
  } as const;
}

/** At most this many tenants get a label of their own on per-tenant metrics; later ones share "other". */
export const QUOTA_TENANT_LABELS = 100;

/**
 * The label for a tenant on a per-tenant series: the first QUOTA_TENANT_LABELS tenants seen keep their id for
 * the life of the process, any later one is "other", so a flood of tenants cannot grow the series without
 * bound (Prometheus keeps every label combination ever exported).
 */
export function boundedTenantLabel(seen: Set<string>, tenantId: string): string {
  if (seen.has(tenantId)) return tenantId;
  if (seen.size >= QUOTA_TENANT_LABELS) return 'other';
  seen.add(tenantId);
  return tenantId;
}

/** Counts a tenant's quota refusal; the tenants with a series of their own are this counter's to keep. */
export function quotaRefusalCounter(metrics: Pick<Metrics, 'quotaRefusals'>): (tenantId: string, quota: string) => void {
  const labelled = new Set<string>();
  return (tenantId, quota) => metrics.quotaRefusals.inc({ tenant: boundedTenantLabel(labelled, tenantId), quota });
}
