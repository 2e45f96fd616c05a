// GET /api/v1/admin/board/overview: the board's figures for the key's tenant (an operator's: any or all).
import { z } from 'zod';
import { MONGO_DEADLINES_MS, readWithin } from '../../../db/mongo.js';
import { FEED_MODES } from '../../../domain/feed-mode.js';
import { pipelineStatus } from '../../../raw-store/backlog.js';
import type { MongoCollections, Retention } from '../../../raw-store/collections.js';
import { runningProcessors } from '../../../raw-store/report-processor.js';
import { pipelineTimeline } from '../../../raw-store/timeline.js';
import { tenantScopeOf } from '../../plugins/auth.js';
import { ROUTE_PROBLEMS } from '../../problem-cases.js';
import type { QuotaView } from '../../tenant-quotas.js';
import { type App, noStore, tenantQuery } from './admin-route.js';

const MODES = [...FEED_MODES, 'no processor reporting'] as const;

const overviewSchema = z.object({
  /** The tenant shown, or null: every tenant (an operator key without a tenant filter). */
  tenantId: z.string().nullable(),
  /** Whether the key is an operator's (it may choose any tenant, or all). */
  operator: z.boolean(),
  generatedAt: z.string(),
  backlog: z.number(),
  oldestUnprocessedAgeSeconds: z.number(),
  failed: z.number(),
  dead: z.number(),
  processed: z.number(),
  acceptedPerSecond: z.number(),
  processedPerSecond: z.number(),
  mode: z.enum(MODES),
  changeStreamLagSeconds: z.number().nullable(),
  resumeTokenAgeSeconds: z.number().nullable(),
  processors: z.array(
    z.object({
      worker: z.string(),
      group: z.string(),
      mode: z.string(),
      lastEventAgeSeconds: z.number().nullable(),
      checkpointAgeSeconds: z.number().nullable(),
      seenAgeSeconds: z.number(),
    }),
  ),
  tenants: z.array(
    z.object({
      tenantId: z.string(),
      acceptedPerSecond: z.number(),
      processedPerSecond: z.number(),
      backlog: z.number(),
      /** Requests this gateway refused with 429 since it started, by quota. */
      refused: z.object({ rate: z.number(), waiting: z.number(), 'waiting-bytes': z.number(), 'daily-bytes': z.number() }),
    }),
  ),
  quotas: z.object({ docsPerSecond: z.number(), maxUnprocessed: z.number(), maxWaitingBytes: z.number(), maxBytesPerDay: z.number() }),
  /** Seconds; statements and dead documents 0: kept for ever. */
  retention: z.object({ processedSeconds: z.number(), logsSeconds: z.number(), statementsSeconds: z.number(), deadSeconds: z.number() }),
  timeline: z.object({
    start: z.number(),
    bucketSeconds: z.number(),
    accepted: z.array(z.number()),
    processed: z.array(z.number()),
    failed: z.array(z.number()),
    dead: z.array(z.number()),
    backlog: z.array(z.number()),
  }),
});

/** Worker names are the installation's host names: shown to operators, numbered for a tenant's admin. */
export function overviewRoute(
  app: App,
  { mongo, retention, freshSeconds, quotas }: { mongo: MongoCollections; retention: Retention; freshSeconds: number; quotas: QuotaView },
): void {
  app.get(
    '/api/v1/admin/board/overview',
    {
      onRequest: app.authorize('admin'),
      onSend: noStore,
      schema: {
        operationId: 'getBoardOverview',
        'x-problems': ROUTE_PROBLEMS.adminRead,
        summary: "The board's overview: the tenant's backlog, rates, failures and the last 15 minutes; the processors' state",
        querystring: tenantQuery,
        response: { 200: overviewSchema },
      },
    },
    async (request) => {
      const tenantId = tenantScopeOf(request.principal, request.query.tenant) ?? undefined;
      const operator = tenantScopeOf(request.principal) === null;
      const now = new Date();
      const { status, processors, timeline } = await readOverview(mongo, tenantId, freshSeconds, now);
      const sum = (key: 'acceptedPerSecond' | 'processedPerSecond') => status.tenants.reduce((total, t) => total + t[key], 0);
      return {
        tenantId: tenantId ?? null,
        operator,
        generatedAt: now.toISOString(),
        backlog: status.backlog,
        oldestUnprocessedAgeSeconds: status.oldestUnprocessedAgeSeconds,
        failed: status.failed,
        dead: status.dead,
        processed: status.processed,
        acceptedPerSecond: sum('acceptedPerSecond'),
        processedPerSecond: sum('processedPerSecond'),
        ...processorFigures(processors, status.checkpoints, operator, now),
        ...tenantsWithRefusals(status.tenants, quotas(), tenantId),
        retention: { ...retention, statementsSeconds: retention.statementsSeconds ?? 0, deadSeconds: retention.deadSeconds ?? 0 },
        timeline,
      };
    },
  );
}

/** The page's reads under one deadline: the board waits for it, never for a MongoDB that does not answer. */
function readOverview(mongo: MongoCollections, tenantId: string | undefined, freshSeconds: number, now: Date) {
  return readWithin(MONGO_DEADLINES_MS.board, async (bound) => {
    const [status, processors] = await Promise.all([
      pipelineStatus(mongo, { tenantId, windowSeconds: 60, now, bound }),
      runningProcessors(mongo.processors, freshSeconds, now, bound),
    ]);
    return { status, processors, timeline: await pipelineTimeline(mongo, { tenantId, backlogNow: status.backlog, now, bound }) };
  });
}

type Overview = Awaited<ReturnType<typeof readOverview>>;

/** The processors' mode, lag and checkpoint age, and each one's state (named for operators, numbered otherwise). */
function processorFigures(
  processors: Overview['processors'],
  checkpoints: Overview['status']['checkpoints'],
  operator: boolean,
  now: Date,
) {
  const age = (at: Date | null) => (at ? (now.getTime() - at.getTime()) / 1000 : null);
  const streaming = processors.filter((p) => p.mode === 'change-stream+sweep');
  const freshest = (ages: Array<number | null>) => {
    const known = ages.filter((a): a is number => a !== null);
    return known.length ? Math.min(...known) : null;
  };
  return {
    mode: (processors.length === 0
      ? 'no processor reporting'
      : streaming.length > 0
        ? 'change-stream+sweep'
        : 'sweep-only') as (typeof MODES)[number],
    changeStreamLagSeconds: freshest(streaming.map((p) => age(p.lastEventAt))),
    resumeTokenAgeSeconds: freshest(checkpoints.map((c) => c.ageSeconds)),
    processors: processors.map((p, i) => ({
      worker: operator ? p._id : `processor ${i + 1}`,
      group: p.group,
      mode: p.mode,
      lastEventAgeSeconds: age(p.lastEventAt),
      checkpointAgeSeconds: age(p.lastCheckpointAt),
      seenAgeSeconds: age(p.seenAt)!,
    })),
  };
}

/** The tenants' figures with this gateway's quota refusals, a tenant refused but idle included (one tenant's only, for its admin). */
function tenantsWithRefusals(
  tenants: Array<{ tenantId: string; acceptedPerSecond: number; processedPerSecond: number; backlog: number }>,
  { refusals, ...limits }: ReturnType<QuotaView>,
  only: string | undefined,
) {
  const none = { rate: 0, waiting: 0, 'waiting-bytes': 0, 'daily-bytes': 0 };
  const listed = tenants.map((t) => ({ ...t, refused: { ...(refusals.get(t.tenantId) ?? none) } }));
  const idle = [...refusals.entries()]
    .filter(([tenantId]) => (only === undefined || tenantId === only) && !tenants.some((t) => t.tenantId === tenantId))
    .map(([tenantId, refused]) => ({ tenantId, acceptedPerSecond: 0, processedPerSecond: 0, backlog: 0, refused: { ...refused } }));
  return { tenants: [...listed, ...idle], quotas: limits };
}
