// GET /api/v1/events: the tenant's events, oldest first, for clients that follow them by cursor (and re-read
// them: kept EVENTS_RETENTION_DAYS). An event is listed once every transaction older than its own has ended,
// so a cursor never skips one that commits later (migrations/1732500000008_events.sql).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Database, pgp } from '../../db/postgres.js';
import { readClassified } from '../../db/postgres-errors.js';
import { transactionDetailSchema } from '../../db/transaction-view.js';
import { EVENT_TYPES } from '../../domain/events.js';
import { HttpProblem } from '../../http/problem.js';
import { rawStatusSchema } from '../../raw-store/status-view.js';

const eventIdSchema = z.string().regex(/^evt_[0-9a-f]{24}$/, 'must be an event id (evt_ and 24 hex digits)');

const eventsQuery = z.strictObject({
  /** One type, or several separated by commas. */
  type: z
    .string()
    .max(200)
    .refine((text) => text.split(',').every((t) => (EVENT_TYPES as readonly string[]).includes(t)), {
      message: `each type must be one of ${EVENT_TYPES.join(', ')}`,
    })
    .optional(),
  /** `created` from (inclusive) and to (exclusive). */
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  /** The last event id read: the page starts after it. */
  starting_after: eventIdSchema.optional(),
});

export const eventSchema = z.object({
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  created: z.string(),
  /** The raw document (POST's `id`) whose processing recorded it: a revision's, a removal's, or the row's own. */
  documentId: z.string(),
  /**
   * transaction.processed, .updated, .voided: the transaction as GET /api/v1/transactions/{id} shows it (its
   * `transaction`) when recorded; transaction.failed, .dead: the document's status then, with the error.
   */
  data: z.union([transactionDetailSchema, rawStatusSchema]),
});

interface EventRow {
  id: string;
  raw_id: string;
  type: (typeof EVENT_TYPES)[number];
  created: Date;
  data: z.infer<typeof eventSchema>['data'];
  txid: string;
  seq: string;
}

type Query = z.infer<typeof eventsQuery>;

async function listEvents(db: Database, tenantId: string, query: Query): Promise<{ data: EventRow[]; hasMore: boolean }> {
  const values: Record<string, unknown> = { tenantId, limit: query.limit + 1 };
  // Visible: recorded by a transaction older than every one still running.
  const conditions = ['tenant_id = ${tenantId}', 'txid < pg_snapshot_xmin(pg_current_snapshot())'];
  if (query.starting_after) {
    const cursor = await readClassified(() =>
      db.oneOrNone<{ txid: string; seq: string }>('SELECT txid::text, seq::text FROM events WHERE tenant_id = $1 AND id = $2', [
        tenantId,
        query.starting_after,
      ]),
    );
    if (!cursor)
      throw new HttpProblem(404, 'not-found', `starting_after: no event ${query.starting_after}`, {
        errors: [{ path: 'querystring.starting_after', message: 'no such event (or older than the events kept)' }],
      });
    conditions.push('(txid, seq) > (${cursorTxid}::xid8, ${cursorSeq}::bigint)');
    Object.assign(values, { cursorTxid: cursor.txid, cursorSeq: cursor.seq });
  }
  if (query.type) {
    conditions.push('type = ANY(${types}::text[])');
    values.types = query.type.split(',');
  }
  if (query.from) {
    conditions.push('created >= ${from}');
    values.from = new Date(query.from);
  }
  if (query.to) {
    conditions.push('created < ${to}');
    values.to = new Date(query.to);
  }
  const rows = await readClassified(() =>
    db.any<EventRow>(
      pgp.as.format(
        `SELECT id, raw_id, type, created, data, txid::text, seq::text FROM events WHERE ${conditions.join(' AND ')} ORDER BY txid, seq LIMIT \${limit}`,
        values,
      ),
    ),
  );
  return { data: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
}

export const eventsRoutes: FastifyPluginAsyncZod<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/api/v1/events',
    {
      onRequest: app.authorize('transactions:read'),
      schema: {
        summary: "The tenant's events (transaction.processed, .updated, .voided, .failed, .dead), oldest first, with cursor pagination",
        querystring: eventsQuery,
        response: { 200: z.object({ data: z.array(eventSchema), has_more: z.boolean() }) },
      },
    },
    async (request) => {
      const { data, hasMore } = await listEvents(db, request.tenantId, request.query);
      return {
        data: data.map((event) => ({
          id: event.id,
          type: event.type,
          created: event.created.toISOString(),
          documentId: event.raw_id,
          data: event.data,
        })),
        has_more: hasMore,
      };
    },
  );
};
