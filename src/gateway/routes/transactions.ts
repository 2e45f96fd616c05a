// The transactions resource: writes hand envelopes to ingestion and answer 202; reads join the raw
// document's progress with the structured row (docs/api.md).
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/postgres.js';
import {
  type Accepted,
  type Envelope,
  envelopeSchema,
  MAX_STORED_PAYLOAD_BYTES,
  oversizedDetail,
  storedPayloadBytes,
} from '../../domain/envelope.js';
import { transactionIdSchema } from '../../domain/ids.js';
import { findUnsafeJson } from '../../domain/refusals.js';
import { checkEnvelope } from '../../http/envelope-check.js';
import { EnvelopeOverLimit, envelopeTooLargeDetail } from '../../http/json-body-parser.js';
import { HttpProblem, type ValidationProblem, validationProblem } from '../../http/problem.js';
import { RAW_STATUSES } from '../../raw-store/collections.js';
import { type RawStatusView, rawStatusSchema } from '../../raw-store/status-view.js';
import type { Ingest } from '../ingest-port.js';
import { idempotencyHeaders } from '../plugins/idempotency.js';
import { ROUTE_PROBLEMS } from '../problem-cases.js';
import type { Admit } from '../tenant-quotas.js';
import {
  getTransaction,
  listFiltersSchema,
  listTransactions,
  type TransactionView,
  transactionDetailSchema,
  transactionViewSchema,
  UnknownCursorError,
} from '../transactions-query.js';

const acceptedSchema = z.object({
  id: z.string(),
  /** The document's status: pending when new; for a duplicate, the first document's status now. */
  status: z.enum(RAW_STATUSES),
  statusUrl: z.string(),
  /** Present and true when this source's externalId had been sent before: `id` is the first one's. */
  duplicate: z.boolean().optional(),
});

/** What a 202 says of an accepted envelope: a duplicate reports the stored document's status now. */
const acceptedView = ({ id, duplicate, status }: Accepted, statusUrl: string) => ({
  id,
  status: duplicate ? (status ?? 'pending') : ('pending' as const),
  statusUrl,
  ...(duplicate ? { duplicate } : {}),
});

const batchResultSchema = z.union([
  z.object({
    index: z.number(),
    status: z.literal(202),
    id: z.string(),
    /** The document's status, as for a single POST. */
    documentStatus: z.enum(RAW_STATUSES),
    statusUrl: z.string(),
    duplicate: z.boolean().optional(),
  }),
  z.object({
    index: z.number(),
    status: z.number(),
    problem: z.object({
      type: z.string(),
      title: z.string(),
      status: z.number(),
      detail: z.string(),
      errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  }),
]);

const idParams = z.object({ id: transactionIdSchema });

/**
 * The progress of a raw document retention has removed, told by its row: processed, once (the count of
 * attempts went with the document), at the moment the row was written.
 */
function statusOfRetained(id: string, transaction: TransactionView): RawStatusView {
  return {
    id,
    source: transaction.source,
    externalId: transaction.externalId,
    status: 'processed',
    attempts: 1,
    lastError: null,
    receivedAt: transaction.receivedAt,
    processedAt: transaction.createdAt,
  };
}

export interface TransactionsRouteOptions {
  ingest: Ingest;
  db: Database;
  publicBaseUrl?: string;
  batchIngestMax: number;
  /** The tenant's quotas: resolves when these documents may be accepted, else throws the 429 (tenant-quotas.ts). */
  admit: Admit;
}

export const transactionsRoutes: FastifyPluginAsyncZod<TransactionsRouteOptions> = async (app, options) => {
  const { ingest, db, publicBaseUrl = '', batchIngestMax, admit } = options;
  const statusUrlOf = (id: string) => `${publicBaseUrl}/api/v1/transactions/${id}`;
  acceptOne(app, { ingest, statusUrlOf, admit });
  acceptBatch(app, { ingest, statusUrlOf, batchIngestMax, admit });
  readOne(app, { ingest, db });
  listRows(app, { db });
};

type App = Parameters<FastifyPluginAsyncZod>[0];

/** Why one batch item was refused: its validation problem, or that it is too large to store. */
type ItemProblem = ValidationProblem | { type: string; title: string; status: number; detail: string };

/** POST /api/v1/transactions: one envelope to ingestion, 202 with where to follow it. */
function acceptOne(app: App, { ingest, statusUrlOf, admit }: { ingest: Ingest; statusUrlOf: (id: string) => string; admit: Admit }): void {
  app.post(
    '/api/v1/transactions',
    {
      onRequest: app.authorize('transactions:write'),
      links: { 202: { getTransaction: { operationId: 'getTransaction', parameters: { id: '$response.body#/id' } } } },
      schema: {
        operationId: 'createTransaction',
        summary: 'Submit one transaction',
        'x-problems': ROUTE_PROBLEMS.acceptTransaction,
        headers: idempotencyHeaders,
        body: envelopeSchema,
        response: { 202: acceptedSchema },
      },
    },
    async (request, reply) => {
      const bytes = storedPayloadBytes(request.body.payload);
      if (bytes > MAX_STORED_PAYLOAD_BYTES) throw new HttpProblem(413, 'document-too-large', oversizedDetail(bytes));
      await admit(request.tenantId, 1, bytes);
      const accepted = await ingest.accept(request.tenantId, request.body);
      const statusUrl = statusUrlOf(accepted.id);
      const { id, duplicate } = accepted;
      request.log.info({ rawId: id, tenantId: request.tenantId, source: request.body.source, duplicate }, 'transaction accepted');
      return reply.code(202).header('Location', statusUrl).send(acceptedView(accepted, statusUrl));
    },
  );
}

/** One batch item, checked: its envelope and stored size, or why it is refused. */
type CheckedItem = { envelope: Envelope; bytes: number } | { problem: ItemProblem };
type BatchResult = z.infer<typeof batchResultSchema>;

/** How long the items' checks may hold the event loop before they let other requests run. */
const CHECK_SLICE_MS = 8;

/** One item on its own: unsafe JSON, then the envelope, then money no mapper could hold, then whether MongoDB can store it. */
function checkItem(item: unknown, index: number): CheckedItem {
  // Left unbuilt by the parser: too many keys and values to be worth checking.
  if (item instanceof EnvelopeOverLimit) {
    return {
      problem: {
        type: '/problems/document-too-large',
        title: 'Content Too Large',
        status: 413,
        detail: envelopeTooLargeDetail(item.path, item.limit),
      },
    };
  }
  const unsafe = findUnsafeJson(item, ['items', index]);
  const checked = unsafe ? { problem: validationProblem([unsafe]) } : checkEnvelope(item, `items.${index}`);
  if (!('envelope' in checked)) return checked;
  const bytes = storedPayloadBytes(checked.envelope.payload);
  if (bytes <= MAX_STORED_PAYLOAD_BYTES) return { envelope: checked.envelope, bytes };
  return { problem: { type: '/problems/document-too-large', title: 'Content Too Large', status: 413, detail: oversizedDetail(bytes) } };
}

/** Every item checked, a turn of the event loop between items once a slice has run CHECK_SLICE_MS (a large batch). */
async function checkItems(items: unknown[]): Promise<CheckedItem[]> {
  const checked: CheckedItem[] = [];
  let sliceStarted = performance.now();
  for (const [index, item] of items.entries()) {
    checked.push(checkItem(item, index));
    if (performance.now() - sliceStarted > CHECK_SLICE_MS) {
      await nextTurn();
      sliceStarted = performance.now();
    }
  }
  return checked;
}

/** Each item's entry in the 207: its problem, or what storing it gave. */
function resultsOf(
  checked: CheckedItem[],
  stored: Map<number, Accepted | { error: string }>,
  statusUrlOf: (id: string) => string,
): BatchResult[] {
  return checked.map((result, index): BatchResult => {
    if ('problem' in result) return { index, status: result.problem.status, problem: result.problem };
    const outcome = stored.get(index)!;
    if ('id' in outcome) {
      const { status: documentStatus, ...view } = acceptedView(outcome, statusUrlOf(outcome.id));
      return { index, status: 202, documentStatus, ...view };
    }
    return {
      index,
      status: 422,
      problem: { type: '/problems/not-stored', title: 'Unprocessable Content', status: 422, detail: outcome.error },
    };
  });
}

/** POST /api/v1/transactions/batch: each item checked and stored on its own, 207 with a result per item. */
function acceptBatch(
  app: App,
  {
    ingest,
    statusUrlOf,
    batchIngestMax,
    admit,
  }: { ingest: Ingest; statusUrlOf: (id: string) => string; batchIngestMax: number; admit: Admit },
): void {
  app.post(
    '/api/v1/transactions/batch',
    {
      onRequest: app.authorize('transactions:write'),
      // The first item's transaction, when it was accepted (each result with status 202 carries its id).
      links: { 207: { getTransaction: { operationId: 'getTransaction', parameters: { id: '$response.body#/results/0/id' } } } },
      schema: {
        operationId: 'createTransactionBatch',
        summary: 'Submit up to BATCH_INGEST_MAX transactions; each item succeeds or fails on its own (207)',
        'x-problems': ROUTE_PROBLEMS.acceptBatch,
        headers: idempotencyHeaders,
        body: z.strictObject({ items: z.array(z.unknown()).min(1).max(batchIngestMax) }),
        response: { 207: z.object({ accepted: z.number(), rejected: z.number(), results: z.array(batchResultSchema) }) },
      },
    },
    async (request, reply) => {
      const checked = await checkItems(request.body.items);
      const valid = checked.flatMap((result, index) => ('envelope' in result ? [{ index, ...result }] : []));
      // The quotas count what would be stored: the request is refused whole (429) or admitted whole.
      if (valid.length > 0)
        await admit(
          request.tenantId,
          valid.length,
          valid.reduce((sum, v) => sum + v.bytes, 0),
        );
      const stored = await ingest.acceptMany(
        request.tenantId,
        valid.map((v) => v.envelope),
      );
      const results = resultsOf(checked, new Map(valid.map(({ index }, position) => [index, stored[position]!])), statusUrlOf);
      const accepted = results.filter((r) => r.status === 202).length;
      request.log.info({ tenantId: request.tenantId, items: results.length, accepted }, 'batch accepted');
      return reply.code(207).send({ accepted, rejected: results.length - accepted, results });
    },
  );
}

/** GET /api/v1/transactions/:id: the raw document's progress joined with its structured row. */
function readOne(app: App, { ingest, db }: { ingest: Ingest; db: Database }): void {
  app.get(
    '/api/v1/transactions/:id',
    {
      onRequest: app.authorize('transactions:read'),
      schema: {
        operationId: 'getTransaction',
        summary: "A transaction's progress, and the structured transaction once processed",
        'x-problems': ROUTE_PROBLEMS.readById,
        params: idParams,
        response: { 200: rawStatusSchema.extend({ transaction: transactionDetailSchema.nullable() }) },
      },
    },
    async (request) => {
      const status = await ingest.status(request.tenantId, request.params.id);
      if (!status) {
        // Retention removed the raw document once it was processed: its row answers (503 while PostgreSQL
        // is unreachable, since only it can tell). Another tenant's id is indistinguishable from a missing one.
        const transaction = await getTransaction(db, request.tenantId, request.params.id);
        if (!transaction) throw new HttpProblem(404, 'not-found', `No transaction ${request.params.id}.`);
        return { ...statusOfRetained(request.params.id, transaction), transaction };
      }
      const transaction = status.status === 'processed' ? ((await getTransaction(db, request.tenantId, request.params.id)) ?? null) : null;
      return { ...status, transaction };
    },
  );
}

/** GET /api/v1/transactions: structured rows, filtered, newest first, by cursor. */
function listRows(app: App, { db }: { db: Database }): void {
  app.get(
    '/api/v1/transactions',
    {
      onRequest: app.authorize('transactions:read'),
      links: { 200: { getTransaction: { operationId: 'getTransaction', parameters: { id: '$response.body#/data/0/id' } } } },
      schema: {
        operationId: 'listTransactions',
        summary: 'Structured transactions, newest first, filtered, with cursor pagination',
        'x-problems': ROUTE_PROBLEMS.listByCursor,
        querystring: listFiltersSchema,
        response: {
          200: z.object({ data: z.array(transactionViewSchema), has_more: z.boolean(), next_starting_after: z.string().nullable() }),
        },
      },
    },
    async (request) => {
      try {
        const { data, hasMore } = await listTransactions(db, request.tenantId, request.query);
        return { data, has_more: hasMore, next_starting_after: hasMore ? data.at(-1)!.id : null };
      } catch (error) {
        if (error instanceof UnknownCursorError) {
          // The cursor names a transaction this tenant does not have: not found, like GET by id.
          throw new HttpProblem(404, 'not-found', error.message, {
            errors: [{ path: 'querystring.starting_after', message: 'no such transaction' }],
          });
        }
        throw error;
      }
    },
  );
}
