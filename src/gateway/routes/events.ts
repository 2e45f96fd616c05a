// GET /api/v1/events: the tenant's events, oldest first, by cursor; an event is listed once every transaction
// older than its own has ended, so a cursor never skips one that commits later (docs/api.md, "Events").
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type Database, pgp } from '../../db/postgres.js';
import { readClassified } from '../../db/postgres-errors.js';
import { ROW_COLUMNS, type Row, toView, transactionDetailSchema } from '../../db/transaction-view.js';
import { EVENT_TYPES } from '../../domain/events.js';
import { HttpProblem } from '../../http/problem.js';
import { statementStatusSchema } from '../../raw-store/statement-status.js';
import { rawStatusSchema } from '../../raw-store/status-view.js';

/** One of EVENT_TYPES, as a pattern: the OpenAPI document then says what `type` takes. */
const TYPE = EVENT_TYPES.map((t) => t.replace('.', '\\.')).join('|');

const eventIdSchema = z.string().regex(/^evt_[0-9a-f]{24}$/, 'must be an event id (evt_ and 24 hex digits)');

const eventsQuery = z.strictObject({
  /** One type, or several separated by commas. */
  type: z
    .string()
    .max(200)
    .regex(new RegExp(`^(${TYPE})(,(${TYPE}))*$`), `each type must be one of ${EVENT_TYPES.join(', ')}`)
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
   * `transaction`) when recorded; transaction.failed, .dead: the document's status then, with the error;
   * statement.processed: the upload as GET /api/v1/statements/{id} shows it, without its entries.
   */
  data: z.union([transactionDetailSchema, rawStatusSchema, statementStatusSchema]),
});

/** An event, and the row of a plain transaction.processed (stored without data: plain rows never change). */
type EventRow = Partial<Row> & {
  event_id: string;
  document_id: string;
  event_type: (typeof EVENT_TYPES)[number];
  event_created: Date;
  event_data: z.infer<typeof eventSchema>['data'] | null;
};

type Query = z.infer<typeof eventsQuery>;

const EVENTS_SQL = (conditions: string[]) => `
  SELECT e.id AS event_id, e.raw_id AS document_id, e.type AS event_type, e.created AS event_created, e.data AS event_data,
         ${ROW_COLUMNS}
    FROM events e
    LEFT JOIN transactions t ON e.data IS NULL AND t.raw_id = e.raw_id
    LEFT JOIN accounts a ON a.id = t.account_id
    LEFT JOIN counterparties c ON c.id = t.counterparty_id
   WHERE (e.data IS NOT NULL OR t.id IS NOT NULL) AND ${conditions.join(' AND ')}
   ORDER BY e.txid, e.seq LIMIT \${limit}`;

async function listEvents(
  db: Database,
  tenantId: string,
  query: Query,
): Promise<{ data: Array<z.infer<typeof eventSchema>>; hasMore: boolean }> {
  const values: Record<string, unknown> = { tenantId, limit: query.limit + 1 };
  // Visible: recorded by a transaction older than every one still running.
  const conditions = ['e.tenant_id = ${tenantId}', 'e.txid < pg_snapshot_xmin(pg_current_snapshot())'];
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
    conditions.push('(e.txid, e.seq) > (${cursorTxid}::xid8, ${cursorSeq}::bigint)');
    Object.assign(values, { cursorTxid: cursor.txid, cursorSeq: cursor.seq });
  }
  if (query.type) {
    conditions.push('e.type = ANY(${types}::text[])');
    values.types = query.type.split(',');
  }
  if (query.from) {
    conditions.push('e.created >= ${from}');
    values.from = new Date(query.from);
  }
  if (query.to) {
    conditions.push('e.created < ${to}');
    values.to = new Date(query.to);
  }
  const rows = await readClassified(() => db.any<EventRow>(pgp.as.format(EVENTS_SQL(conditions), values)));
  const data = rows.slice(0, query.limit).map((row) => ({
    id: row.event_id,
    type: row.event_type,
    created: row.event_created.toISOString(),
    documentId: row.document_id,
    data: row.event_data ?? { ...toView(row as Row), revisions: [] },
  }));
  return { data, hasMore: rows.length > query.limit };
}

export const eventsRoutes: FastifyPluginAsyncZod<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/api/v1/events',
    {
      onRequest: app.authorize('transactions:read'),
      schema: {
        summary:
          "The tenant's events (transaction.processed, .updated, .voided, .failed, .dead; statement.processed), oldest first, with cursor pagination",
        querystring: eventsQuery,
        response: { 200: z.object({ data: z.array(eventSchema), has_more: z.boolean() }) },
      },
    },
    async (request) => {
      const { data, hasMore } = await listEvents(db, request.tenantId, request.query);
      return { data, has_more: hasMore };
    },
  );
};
