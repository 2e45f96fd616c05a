// GET /api/v1/events: the tenant's events, oldest first, by cursor; an event is listed once every transaction
// older than its own has ended, so a cursor never skips one that commits later (docs/api.md, "GET /api/v1/events").
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/postgres.js';
import { EVENT_TYPES } from '../../domain/events.js';
import { HttpProblem } from '../../http/problem.js';
import { cursorOf } from '../../pg-store/event-cursor.js';
import { type FeedCursor, readEvents } from '../../pg-store/read-events.js';
import { transactionDetailSchema } from '../../pg-store/transaction-view.js';
import { statementStatusSchema } from '../../raw-store/statement-status.js';
import { rawStatusSchema } from '../../raw-store/status-view.js';
import { disabledEndpointSchema } from '../../webhook-endpoints/endpoint-view.js';
import { ROUTE_PROBLEMS } from '../problem-cases.js';

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

/** What each type's `data` holds. */
export const EVENT_DATA_SCHEMAS = {
  /** The transaction as GET /api/v1/transactions/{id} shows it (its `transaction`) when recorded. */
  'transaction.processed': transactionDetailSchema,
  'transaction.updated': transactionDetailSchema,
  'transaction.voided': transactionDetailSchema,
  /** The document's status then, with the error. */
  'transaction.failed': rawStatusSchema,
  'transaction.dead': rawStatusSchema,
  /** The upload as GET /api/v1/statements/{id} shows it, without its entries. */
  'statement.processed': statementStatusSchema,
  /** The endpoint as GET /api/v1/webhook-endpoints lists it, disabled, its URL cut to the origin. */
  'webhook_endpoint.disabled': disabledEndpointSchema,
} as const satisfies Record<(typeof EVENT_TYPES)[number], z.ZodType>;

export const eventSchema = z.object({
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  created: z.string(),
  /**
   * What the event is about: the raw document (POST's `id`) whose processing recorded it (a revision's, a
   * removal's, or the row's own), the statement upload, or the webhook endpoint.
   */
  documentId: z.string(),
  data: z.union([transactionDetailSchema, rawStatusSchema, statementStatusSchema, disabledEndpointSchema]),
});

type Query = z.infer<typeof eventsQuery>;

async function listEvents(
  db: Database,
  tenantId: string,
  query: Query,
): Promise<{ data: Array<z.infer<typeof eventSchema>>; hasMore: boolean }> {
  let after: FeedCursor | undefined;
  if (query.starting_after) {
    const cursor = await cursorOf(db, tenantId, query.starting_after);
    if (!cursor)
      throw new HttpProblem(404, 'not-found', `starting_after: no event ${query.starting_after}`, {
        errors: [{ path: 'querystring.starting_after', message: 'no such event (or older than the events kept)' }],
      });
    after = cursor;
  }
  const events = await readEvents(db, {
    tenantId,
    types: query.type?.split(','),
    from: query.from ? new Date(query.from) : undefined,
    to: query.to ? new Date(query.to) : undefined,
    after,
    limit: query.limit + 1,
  });
  const data = events.slice(0, query.limit).map(({ cursor: _cursor, ...event }) => event as z.infer<typeof eventSchema>);
  return { data, hasMore: events.length > query.limit };
}

export const eventsRoutes: FastifyPluginAsyncZod<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/api/v1/events',
    {
      onRequest: app.authorize('transactions:read'),
      schema: {
        operationId: 'listEvents',
        'x-problems': ROUTE_PROBLEMS.listByCursor,
        summary:
          "The tenant's events (transaction.processed, .updated, .voided, .failed, .dead; statement.processed), oldest first, with cursor pagination",
        querystring: eventsQuery,
        response: { 200: z.object({ data: z.array(eventSchema), has_more: z.boolean(), next_starting_after: z.string().nullable() }) },
      },
    },
    async (request) => {
      const { data, hasMore } = await listEvents(db, request.tenantId, request.query);
      return { data, has_more: hasMore, next_starting_after: hasMore ? data.at(-1)!.id : null };
    },
  );
};
