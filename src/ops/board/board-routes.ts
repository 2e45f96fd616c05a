// The operator's board: a static page at /board and the admin API it reads. The page holds no data and no
// secret; every figure comes from the JSON routes below, which need an admin key and answer for the key's
// tenant, or for an operator key any tenant or all (docs/operations.md, "The board"). Mounted on the
// gateway by cli/, which passes the gateway's authorization as a port, so ops never imports the gateway.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FEED_MODES } from '../../domain/feed-mode.js';
import { tenantIdSchema, transactionIdSchema } from '../../domain/ids.js';
import { checkEnvelope } from '../../http/envelope-check.js';
import { HttpProblem } from '../../http/problem.js';
import { pipelineStatus } from '../../raw-store/backlog.js';
import type { MongoCollections, Retention } from '../../raw-store/collections.js';
import { correctPayload } from '../../raw-store/correct-payload.js';
import { findDocumentDetail } from '../../raw-store/document-detail.js';
import { listDocuments } from '../../raw-store/list-documents.js';
import { runningProcessors } from '../../raw-store/report-processor.js';
import { selectionSchema } from '../../raw-store/selection.js';
import { RAW_STATUSES, REPLAYABLE_STATUSES } from '../../raw-store/states.js';
import { rawStatusSchema } from '../../raw-store/status-view.js';
import { pipelineTimeline } from '../../raw-store/timeline.js';

export interface BoardOptions {
  mongo: MongoCollections;
  retention: Retention;
  /** The gateway's check for the admin scope. */
  authorizeAdmin(): onRequestAsyncHookHandler[];
  /** The key's id, for the audit log. */
  keyIdOf(request: FastifyRequest): string;
  /**
   * The tenant the request acts on: the key's own, or for an operator key the one asked for or every
   * tenant (null); asking for another tenant without the operator scope throws a 403.
   */
  tenantScope(request: FastifyRequest, requested?: string): string | null;
  /** The structured row of a processed document, from PostgreSQL (throws when it is unreachable). */
  readTransaction(tenantId: string, rawId: string): Promise<unknown | undefined>;
  /** A processor that has not reported for this long is not shown as running. */
  processorFreshSeconds?: number;
}

const MODES = [...FEED_MODES, 'no processor reporting'] as const;

const tenantQuery = z.strictObject({ tenant: tenantIdSchema.optional() });

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
  tenants: z.array(z.object({ tenantId: z.string(), acceptedPerSecond: z.number(), processedPerSecond: z.number(), backlog: z.number() })),
  retention: z.object({ processedSeconds: z.number(), logsSeconds: z.number() }),
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

// The list's filters are the replay's selectors (one status here, in a query string), so what the board
// lists is what "replay these" replays.
const documentsQuery = tenantQuery.extend({
  status: z.enum(REPLAYABLE_STATUSES).optional(),
  ...selectionSchema.pick({ source: true, error: true, from: true, to: true }).shape,
  limit: z.coerce.number().int().min(1).max(100).default(25),
  before: transactionIdSchema.optional(),
});

const documentSummary = rawStatusSchema.extend({ tenantId: z.string() });
const idParams = z.object({ id: transactionIdSchema });
const jsonObject = z.record(z.string(), z.unknown());

const detailSchema = z.object({
  document: documentSummary.extend({
    payload: jsonObject,
    leaseUntil: z.string().nullable(),
    corrections: z.array(z.object({ at: z.string(), by: z.string(), previous: jsonObject })),
  }),
  logs: z.array(
    z.object({
      at: z.string(),
      outcome: z.string(),
      batchId: z.string(),
      worker: z.string(),
      durationMs: z.number(),
      latencyMs: z.number(),
      error: z.string().nullable(),
    }),
  ),
  /** The structured row once processed; null before, or while PostgreSQL cannot be reached (see the flag). */
  transaction: jsonObject.nullable(),
  transactionUnavailable: z.boolean(),
});

/** The page and its scripts: read once, served from memory with headers that keep them to themselves. */
function loadAssets() {
  const here = (name: string) => new URL(`./assets/${name}`, import.meta.url);
  const uplot = createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js');
  const read = (file: string | URL) => readFileSync(file, 'utf8');
  return {
    '/board': { type: 'text/html; charset=utf-8', body: read(here('index.html')) },
    '/board/board.js': { type: 'text/javascript; charset=utf-8', body: read(here('board.js')) },
    '/board/board.css': { type: 'text/css; charset=utf-8', body: read(here('board.css')) },
    '/board/uplot.js': { type: 'text/javascript; charset=utf-8', body: read(uplot) },
    '/board/uplot.css': { type: 'text/css; charset=utf-8', body: read(uplot.replace(/uPlot\.iife\.min\.js$/, 'uPlot.min.css')) },
  };
}

// Scripts and styles only from this origin (no inline code, so injected markup cannot run), no framing,
// no referrer (the page's URL carries nothing, but a link followed from it should not tell where from).
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

export const boardRoutes: FastifyPluginAsyncZod<BoardOptions> = async (app, options) => {
  const { mongo, retention } = options;
  const freshSeconds = options.processorFreshSeconds ?? 30;

  for (const [url, asset] of Object.entries(loadAssets())) {
    app.get(url, { schema: { hide: true } }, async (_request, reply: FastifyReply) =>
      reply.headers(PAGE_HEADERS).type(asset.type).send(asset.body),
    );
  }
  // The API's answers are the tenant's data: never cached.
  // Worker names are the installation's host names: shown to operators, numbered for a tenant's admin.
  const noStore = async (_request: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
  };

  app.get(
    '/api/v1/admin/board/overview',
    {
      onRequest: options.authorizeAdmin(),
      onSend: noStore,
      schema: {
        summary: "The board's overview: the tenant's backlog, rates, failures and the last 15 minutes; the processors' state",
        querystring: tenantQuery,
        response: { 200: overviewSchema },
      },
    },
    async (request) => {
      const tenantId = options.tenantScope(request, request.query.tenant) ?? undefined;
      const operator = options.tenantScope(request) === null;
      const now = new Date();
      const [status, processors] = await Promise.all([
        pipelineStatus(mongo, { tenantId, windowSeconds: 60, now }),
        runningProcessors(mongo.processors, freshSeconds, now),
      ]);
      const timeline = await pipelineTimeline(mongo, { tenantId, backlogNow: status.backlog, now });
      const age = (at: Date | null) => (at ? (now.getTime() - at.getTime()) / 1000 : null);
      const streaming = processors.filter((p) => p.mode === 'change-stream+sweep');
      const freshest = (ages: Array<number | null>) => {
        const known = ages.filter((a): a is number => a !== null);
        return known.length ? Math.min(...known) : null;
      };
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
        mode: (processors.length === 0
          ? 'no processor reporting'
          : streaming.length > 0
            ? 'change-stream+sweep'
            : 'sweep-only') as (typeof MODES)[number],
        changeStreamLagSeconds: freshest(streaming.map((p) => age(p.lastEventAt))),
        resumeTokenAgeSeconds: freshest(status.checkpoints.map((c) => c.ageSeconds)),
        processors: processors.map((p, i) => ({
          worker: operator ? p._id : `processor ${i + 1}`,
          group: p.group,
          mode: p.mode,
          lastEventAgeSeconds: age(p.lastEventAt),
          checkpointAgeSeconds: age(p.lastCheckpointAt),
          seenAgeSeconds: age(p.seenAt)!,
        })),
        tenants: status.tenants,
        retention,
        timeline,
      };
    },
  );

  app.get(
    '/api/v1/admin/documents',
    {
      onRequest: options.authorizeAdmin(),
      onSend: noStore,
      schema: {
        summary:
          "The tenant's failed and dead documents, newest first, filtered by status, source, error text and time (and tenant, for operator keys)",
        querystring: documentsQuery,
        response: { 200: z.object({ data: z.array(documentSummary), next_before: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { tenant, status, limit, before, ...filters } = request.query;
      const tenantId = options.tenantScope(request, tenant) ?? undefined;
      const page = await listDocuments(
        mongo.raw,
        { ...filters, tenantId, statuses: status ? [status] : [...REPLAYABLE_STATUSES] },
        { limit, before },
      );
      return { data: page.data, next_before: page.nextBefore };
    },
  );

  app.get(
    '/api/v1/admin/documents/:id',
    {
      onRequest: options.authorizeAdmin(),
      onSend: noStore,
      schema: {
        summary: 'One raw document: its payload, progress, every logged outcome, corrections, and its row once processed',
        params: idParams,
        response: { 200: detailSchema },
      },
    },
    async (request) => {
      const scope = options.tenantScope(request);
      const detail = await findDocumentDetail(mongo, scope, request.params.id);
      if (!detail) throw new HttpProblem(404, 'not-found', `No document ${request.params.id}.`);
      const { tenantId } = detail.document;
      request.log.info(
        { audit: 'document-viewed', tenantId, keyId: options.keyIdOf(request), rawId: request.params.id },
        'board: document viewed',
      );
      let transaction: unknown = null;
      let transactionUnavailable = false;
      if (detail.document.status === 'processed') {
        // The board still shows what MongoDB knows while PostgreSQL is away.
        try {
          transaction = (await options.readTransaction(tenantId, request.params.id)) ?? null;
        } catch (error) {
          request.log.warn({ err: error }, 'board: the structured row could not be read');
          transactionUnavailable = true;
        }
      }
      const logs =
        scope === null
          ? detail.logs
          : detail.logs.map((log) => ({ ...log, worker: 'processor', batchId: log.batchId.replace(log.worker, 'processor') }));
      return { ...detail, logs, transaction: transaction as Record<string, unknown> | null, transactionUnavailable };
    },
  );

  app.post(
    '/api/v1/admin/documents/:id/payload',
    {
      onRequest: options.authorizeAdmin(),
      schema: {
        summary: "Correct a failed or dead document's payload (the previous one is kept) and put it back in line",
        params: idParams,
        body: z.strictObject({ payload: jsonObject }),
        response: { 200: z.object({ id: z.string(), status: z.enum(RAW_STATUSES) }) },
      },
    },
    async (request) => {
      const keyId = options.keyIdOf(request);
      const { id } = request.params;
      const result = await correctPayload(mongo.raw, {
        tenantId: options.tenantScope(request),
        id,
        by: keyId,
        // The corrected payload passes the same door as a new submission.
        prepare: ({ source, externalId }) => {
          const checked = checkEnvelope({ source, ...(externalId ? { externalId } : {}), payload: request.body.payload }, '');
          if ('problem' in checked)
            throw new HttpProblem(400, 'validation-error', checked.problem.detail, { errors: checked.problem.errors });
          return checked.envelope.payload;
        },
      });
      if (result.outcome === 'not-found') throw new HttpProblem(404, 'not-found', `No document ${id}.`);
      if (result.outcome === 'not-correctable') {
        throw new HttpProblem(409, 'not-correctable', `Only failed or dead documents can be corrected; this one is ${result.status}.`);
      }
      request.log.info(
        { audit: 'payload-corrected', tenantId: result.tenantId, keyId, rawId: id },
        'board: payload corrected and document replayed',
      );
      return { id, status: 'pending' as const };
    },
  );
};
