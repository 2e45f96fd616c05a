// GET /api/v1/admin/reconciliation: the stored reconciliation of a range of days, and its mismatches, for the
// key's tenant (an operator's: any or all); the scheduled run or `prismo reconcile` fills it.
import { z } from 'zod';
import type { Database } from '../../../db/postgres.js';
import { readClassified } from '../../../db/postgres-errors.js';
import { SOURCES } from '../../../domain/envelope.js';
import { MISMATCH_KINDS } from '../../../domain/reconciliation.js';
import { lastRun, lastRunOfTenant } from '../../../pg-store/last-reconciliation-run.js';
import { readReconciliation } from '../../../pg-store/read-reconciliation.js';
import { tenantScopeOf } from '../../plugins/auth.js';
import { ROUTE_PROBLEMS } from '../../problem-cases.js';
import { type App, noStore, tenantQuery } from './admin-route.js';

/** A calendar day (z.iso.date: 2026-02-30 is refused); days before 1970 or after 9999 are read as those bounds. */
const day = z.iso.date();
const clampDay = (d: string) => (d < '1970-01-01' ? '1970-01-01' : d);

const reconciliationQuery = tenantQuery.extend({
  source: z.enum(SOURCES).optional(),
  /** Days from and to, both included; the last 30 days by default. */
  from: day.optional(),
  to: day.optional(),
  limit: z.coerce.number().int().min(1).max(5_000).default(500),
});

const sumSchema = z.object({ currency: z.string(), direction: z.string(), rowsMinor: z.string(), documentsMinor: z.string() });
const reconciliationSchema = z.object({
  days: z.array(
    z.object({
      day: z.string(),
      tenantId: z.string(),
      source: z.string(),
      accepted: z.number(),
      processed: z.number(),
      failed: z.number(),
      dead: z.number(),
      waiting: z.number(),
      oldestWaitingAt: z.string().nullable(),
      rows: z.number(),
      revisions: z.number(),
      voids: z.number(),
      replaced: z.number(),
      aliases: z.number(),
      sums: z.array(sumSchema),
      mismatches: z.number(),
      reconciledAt: z.string(),
      retentionRemoved: z.boolean(),
    }),
  ),
  mismatches: z.array(
    z.object({
      id: z.string(),
      kind: z.enum(MISMATCH_KINDS),
      tenantId: z.string(),
      source: z.string(),
      day: z.string(),
      detail: z.string(),
      foundAt: z.string(),
    }),
  ),
  /** More mismatches than `limit` in the range: narrow it (a day, a tenant, a source). */
  moreMismatches: z.boolean(),
  lastRun: z
    .object({
      id: z.string(),
      mode: z.string(),
      trigger: z.string(),
      startedAt: z.string(),
      finishedAt: z.string().nullable(),
      days: z.number().nullable(),
      documents: z.number().nullable(),
      mismatches: z.number().nullable(),
      error: z.string().nullable(),
    })
    .nullable(),
});

const DAY_MS = 86_400_000;

export function reconciliationRoute(app: App, { db }: { db: Database }): void {
  app.get(
    '/api/v1/admin/reconciliation',
    {
      onRequest: app.authorize('admin'),
      onSend: noStore,
      schema: {
        operationId: 'getReconciliation',
        'x-problems': ROUTE_PROBLEMS.adminRead,
        summary:
          'The reconciliation of accepted documents against rows, per tenant, source and UTC day, newest first, with each mismatch by document id and kind',
        querystring: reconciliationQuery,
        response: { 200: reconciliationSchema },
      },
    },
    async (request) => {
      const { tenant, source, limit } = request.query;
      const tenantId = tenantScopeOf(request.principal, tenant) ?? undefined;
      // PostgreSQL has no year 0, and nothing was accepted before 1970: earlier days read as 1970-01-01.
      const to = clampDay(request.query.to ?? new Date().toISOString().slice(0, 10));
      const from = clampDay(request.query.from ?? new Date(Date.parse(`${to}T00:00:00Z`) - 29 * DAY_MS).toISOString().slice(0, 10));
      // PostgreSQL unreachable is a 503 with Retry-After, as for every read (readClassified), never a 500.
      const [stored, run] = await readClassified(() =>
        // The caller's tenant's last run; the installation's only for an operator asking for every tenant.
        Promise.all([
          readReconciliation(db, { tenantId, source, from, to, limit }),
          tenantId === undefined ? lastRun(db) : lastRunOfTenant(db, tenantId),
        ]),
      );
      return {
        ...stored,
        mismatches: stored.mismatches.map((m) => ({ ...m, kind: m.kind as (typeof MISMATCH_KINDS)[number] })),
        lastRun: run && {
          id: run.id,
          mode: run.mode,
          trigger: run.trigger,
          startedAt: run.started_at.toISOString(),
          finishedAt: run.finished_at?.toISOString() ?? null,
          days: run.days,
          documents: run.documents,
          mismatches: run.mismatches,
          error: run.error,
        },
      };
    },
  );
}
