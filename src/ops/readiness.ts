// /readyz: whether this process can do its job now (MongoDB answers; for a processor, PostgreSQL too and its
// migrations are current; how the processor is fed), and the scrape-time gauges of /metrics.
import { readdir } from 'node:fs/promises';
import type { Db } from 'mongodb';
import { MIGRATIONS_DIR } from '../db/migrate.js';
import type { Database } from '../db/postgres.js';
import { MISMATCH_KINDS } from '../domain/reconciliation.js';
import type { Metrics } from './metrics.js';
import { BATCH_STAGES, type ProcessorView } from './processor-tracker.js';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
  /** How the processor is fed, when this process runs one: change stream plus sweep, or the sweep alone. */
  processor?: string;
}

export interface Readiness {
  check(): Promise<ReadinessReport>;
  refreshGauges(): Promise<void>;
}

/**
 * Where /metrics' scrape-time figures come from: readers of the stores that cli/ wires, so that ops/ reaches
 * into no other room. Each is given only where this process has what it reads; a reader that fails leaves its
 * gauges at their last values (/readyz says why).
 */
export interface FigureSources {
  /** The raw store's backlog and dead letters (a process with MongoDB). */
  backlog?: () => Promise<{ backlog: number; failed: number; dead: number; oldestUnprocessedAgeSeconds: number }>;
  /** Reconciliation's stored results: mismatches by kind, the last day reconciled, the last run (PostgreSQL). */
  reconciliation?: () => Promise<{
    mismatches: ReadonlyMap<string, number>;
    lastDay: Date | null;
    lastRun: { finishedAt: Date; seconds: number } | null;
  }>;
  /** Webhook delivery: each healthy endpoint's waiting events, most first, and the endpoints by state (a deliverer). */
  deliveries?: () => Promise<{
    pending: Array<{ endpointId: string; events: number; oldestAgeSeconds: number }>;
    states: Record<string, number>;
  }>;
}

const CHECK_TIMEOUT_MS = 2_000;
/**
 * How long a readiness report is reused: /readyz answers anyone who reaches the port, so however often it is
 * asked, the databases are checked at most about once a second (callers arriving during a check share it).
 */
export const READINESS_CACHE_MS = 1_000;

/** `run`'s answer, reused for `ms` after it settled; calls while it runs share the one in flight. */
function cached<T>(ms: number, run: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  let inFlight: Promise<T> | undefined;
  return () => {
    if (inFlight) return inFlight;
    if (last && Date.now() - last.at < ms) return last.value;
    const value = run();
    inFlight = value;
    const settle = () => {
      last = { at: Date.now(), value };
      inFlight = undefined;
    };
    value.then(settle, settle);
    return value;
  };
}

/**
 * A batch stage retrying this long without success makes the processor not ready: short blips pass unseen,
 * an outage or a stuck dependency shows (the stage retries without a cap, so nothing else would stop it).
 */
export const STAGE_STUCK_MS = 10_000;

/** The processor's batch stages: ok unless one has retried for STAGE_STUCK_MS; the detail names each retrying. */
function stagesCheck(view: Readonly<ProcessorView>, now: number): { ok: boolean; detail?: string } {
  if (view.retrying.size === 0) return { ok: true };
  const stages = [...view.retrying].map(([stage, r]) => ({ stage, ms: now - r.since.getTime(), retries: r.retries, code: r.code }));
  return {
    ok: stages.every((s) => s.ms < STAGE_STUCK_MS),
    detail: stages.map((s) => `${s.stage} retrying for ${Math.round(s.ms / 1000)} s (${s.retries} retries, last ${s.code})`).join('; '),
  };
}

async function probe(run: () => Promise<unknown>): Promise<{ ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS)),
      ),
    ]);
    return { ok: true };
  } catch (error) {
    // The reason, not the driver's message, reaches the (unauthenticated) caller.
    return {
      ok: false,
      detail: error instanceof Error && error.message.startsWith('no answer') ? error.message : 'unreachable or refused',
    };
  } finally {
    clearTimeout(timer);
  }
}

export function createReadiness({
  mongo,
  db,
  processor,
  metrics,
  mongoNotice,
  postgresRequired = true,
  figures = {},
}: {
  /** The MongoDB database pinged (the connection itself: ops/ reads no collection). */
  mongo?: { db: Db };
  db?: Database;
  /** False where PostgreSQL serves reads only (a gateway): reported, but the process stays ready without it. */
  postgresRequired?: boolean;
  /** The processor running in this process, as its events left it. */
  processor?: { view(): Readonly<ProcessorView> };
  metrics: Metrics;
  /** Said with the MongoDB check, e.g. that it is the development MongoDB and not MongoDB. */
  mongoNotice?: string;
  /** The readers of the scrape-time gauges' figures. */
  figures?: FigureSources;
}): Readiness {
  const check = cached(READINESS_CACHE_MS, () => checkNow({ mongo, db, mongoNotice, postgresRequired, processor }));
  return {
    check,

    async refreshGauges() {
      const now = Date.now();
      if (processor) {
        const { lastEventAt, lastCheckpointAt, retrying } = processor.view();
        for (const stage of new Set([...BATCH_STAGES, ...retrying.keys()])) {
          const since = retrying.get(stage)?.since;
          metrics.gauges.stageRetrying.set({ stage }, since ? (now - since.getTime()) / 1000 : 0);
        }
        if (lastEventAt) metrics.gauges.streamLag.set((now - lastEventAt.getTime()) / 1000);
        if (lastCheckpointAt) metrics.gauges.resumeTokenAge.set((now - lastCheckpointAt.getTime()) / 1000);
      }
      if (figures.reconciliation) await refreshReconciliationGauges(figures.reconciliation, metrics);
      if (figures.deliveries) await refreshWebhookGauges(figures.deliveries, metrics);
      if (!figures.backlog) return;
      try {
        const status = await figures.backlog();
        metrics.gauges.backlog.set(status.backlog);
        metrics.gauges.oldestUnprocessedAge.set(status.oldestUnprocessedAgeSeconds);
        metrics.gauges.failed.set(status.failed);
        metrics.gauges.dead.set(status.dead);
      } catch {
        // MongoDB unreachable: the gauges keep their last values and /readyz says why.
      }
    },
  };
}

/** The checks themselves: MongoDB answers; PostgreSQL answers and its migrations are current. */
async function checkNow({
  mongo,
  db,
  mongoNotice,
  postgresRequired,
  processor,
}: {
  mongo?: { db: Db };
  db?: Database;
  mongoNotice?: string;
  postgresRequired: boolean;
  processor?: { view(): Readonly<ProcessorView> };
}): Promise<ReadinessReport> {
  const checks: ReadinessReport['checks'] = {};
  if (mongo) {
    checks.mongodb = await probe(() => mongo.db.command({ ping: 1 }));
    if (mongoNotice && checks.mongodb.ok) checks.mongodb.detail = mongoNotice;
  }
  if (db) {
    checks.postgresql = await probe(() => db.one('SELECT 1'));
    checks.migrations = checks.postgresql.ok
      ? await probe(async () => {
          const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, ''));
          const applied = new Set((await db.any<{ name: string }>('SELECT name FROM pgmigrations')).map((r) => r.name));
          const pending = files.filter((f) => !applied.has(f));
          if (pending.length) throw new Error(`pending: ${pending.join(', ')}`);
        }).then((result) => (result.ok ? result : { ok: false, detail: 'migrations pending: run `prismo migrate`' }))
      : { ok: false, detail: 'PostgreSQL unreachable' };
  }
  if (processor) checks.stages = stagesCheck(processor.view(), Date.now());
  const required = Object.entries(checks).filter(([name]) => postgresRequired || (name !== 'postgresql' && name !== 'migrations'));
  return {
    ready: required.every(([, c]) => c.ok),
    checks,
    ...(processor ? { processor: processor.view().mode } : {}),
  };
}

async function refreshReconciliationGauges(read: NonNullable<FigureSources['reconciliation']>, metrics: Metrics) {
  try {
    const figures = await read();
    for (const kind of MISMATCH_KINDS) metrics.gauges.reconciliationMismatches.set({ kind }, figures.mismatches.get(kind) ?? 0);
    if (figures.lastDay) metrics.gauges.reconciliationLastDay.set(figures.lastDay.getTime() / 1000);
    if (figures.lastRun) {
      metrics.gauges.reconciliationLastRun.set(figures.lastRun.finishedAt.getTime() / 1000);
      metrics.gauges.reconciliationLastRunDuration.set(figures.lastRun.seconds);
    }
  } catch {
    // PostgreSQL unreachable (or not migrated yet): the gauges keep their last values and /readyz says why.
  }
}

/** Per-endpoint series for the 20 endpoints with most waiting, the rest summed as "other": bounded cardinality. */
const ENDPOINT_SERIES = 20;

async function refreshWebhookGauges(read: NonNullable<FigureSources['deliveries']>, metrics: Metrics) {
  try {
    const figures = await read();
    const { webhookPending, webhookOldestPending, webhookEndpoints } = metrics.gauges;
    webhookPending.reset();
    webhookOldestPending.reset();
    for (const p of figures.pending.slice(0, ENDPOINT_SERIES)) {
      webhookPending.set({ endpoint: p.endpointId }, p.events);
      webhookOldestPending.set({ endpoint: p.endpointId }, p.oldestAgeSeconds);
    }
    const rest = figures.pending.slice(ENDPOINT_SERIES);
    webhookPending.set(
      { endpoint: 'other' },
      rest.reduce((sum, p) => sum + p.events, 0),
    );
    webhookOldestPending.set({ endpoint: 'other' }, Math.max(0, ...rest.map((p) => p.oldestAgeSeconds)));
    for (const [state, count] of Object.entries(figures.states)) webhookEndpoints.set({ state }, count);
  } catch {
    // PostgreSQL unreachable: the gauges keep their last values and /readyz says why.
  }
}
