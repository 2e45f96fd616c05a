// Bank statements as banks deliver them: POST /api/v1/statements takes a camt.053 XML file, one transaction
// per entry; GET /api/v1/statements/:id gives each entry's progress and transaction.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/postgres.js';
import { transactionIdSchema } from '../../domain/ids.js';
import { HttpProblem } from '../../http/problem.js';
import { createStatementParser, type StatementParsing } from '../../http/statement-parser.js';
import { RAW_STATUSES } from '../../raw-store/collections.js';
import { measureStatement } from '../../raw-store/measure-statement.js';
import { statementStatusSchema } from '../../raw-store/statement-status.js';
import type { Ingest } from '../ingest-port.js';
import { idempotencyHeaders } from '../plugins/idempotency.js';
import { ROUTE_PROBLEMS } from '../problem-cases.js';
import { type StatementQuota, storedBytesOf } from '../statement-quota.js';
import type { Admit } from '../tenant-quotas.js';
import { getTransactions, transactionDetailSchema } from '../transactions-query.js';

const XML_TYPES = ['application/xml', 'text/xml'];
/** A statement's status without its entries. */
const NO_ENTRIES = { start: 0, limit: 0 };
const REMOVED_DEAD = 'dead, and removed after RETENTION_DEAD_SECONDS';

const acceptedSchema = z.object({
  id: z.string(),
  /** pending when new; for a duplicate, the first upload's status now (as GET /api/v1/statements/{id} tells it). */
  status: z.enum(['pending', 'processed', 'failed']),
  statusUrl: z.string(),
  /** Present and true when these statements had been sent before (in any camt version): `id` is the first upload's. */
  duplicate: z.boolean().optional(),
});

const statementViewSchema = statementStatusSchema.extend({
  /** One page of the entries, in the file's order. */
  entries: z.array(
    z.object({
      index: z.number().int(),
      status: z.enum(RAW_STATUSES),
      lastError: z.string().nullable(),
      transaction: transactionDetailSchema.nullable(),
    }),
  ),
  has_more: z.boolean(),
  /** The `starting_after` of the next page: the index of this page's last entry; null on the last page. */
  next_starting_after: z.number().int().nullable(),
});

/** Entries by cursor, as GET /api/v1/transactions pages: `limit`, and the index of the last entry read. */
const entriesPageSchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  starting_after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

export interface StatementsRouteOptions {
  ingest: Ingest;
  db: Database;
  publicBaseUrl?: string;
  bodyLimitBytes: number;
  /** How many entries a file may hold, and how many files are parsed at once (http/statement-parser.ts). */
  parsing: StatementParsing;
  /** The tenant's quotas, for the file's entries and every byte it stores (tenant-quotas.ts). */
  admit: Admit;
  /** The bytes of the tenant's statements kept (statement-quota.ts). */
  statementQuota: StatementQuota;
}

export const statementsRoutes: FastifyPluginAsyncZod<StatementsRouteOptions> = async (app, options) => {
  // In this plugin only: every other route stays JSON-only.
  app.addContentTypeParser(XML_TYPES, { parseAs: 'string', bodyLimit: options.bodyLimitBytes }, (_request, body, done) => done(null, body));
  upload(app, options);
  readOne(app, options);
};

type App = Parameters<FastifyPluginAsyncZod>[0];

/** POST /api/v1/statements: the file parsed (bounded, in slices), admitted by the quotas, stored. */
function upload(app: App, { ingest, publicBaseUrl = '', bodyLimitBytes, admit, parsing, statementQuota }: StatementsRouteOptions): void {
  const parser = createStatementParser(parsing);
  const admitAndStore = admitAndStoreWith({ ingest, admit, statementQuota });
  app.post(
    '/api/v1/statements',
    {
      onRequest: [
        ...app.authorize('transactions:write'),
        // The wrong media type is refused before the body is read: the route's large limit is for XML only.
        async (request) => {
          const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
          if (!type || !XML_TYPES.includes(type))
            throw new HttpProblem(415, 'unsupported-media-type', 'A statement is a camt.053 XML file: send it as application/xml.');
        },
        // A place among the uploads in progress, before the body is read: a full queue (503) or a tenant at its
        // share (429) costs the client its bytes, not this service its memory.
        async (request, reply) => parser.admit(request.tenantId, reply.raw),
      ],
      // A JSON body would fail the string schema as a 400; the truth is that it is the wrong media type.
      preValidation: async (request) => {
        if (typeof request.body !== 'string')
          throw new HttpProblem(415, 'unsupported-media-type', 'A statement is a camt.053 XML file: send it as application/xml.');
      },
      bodyLimit: bodyLimitBytes,
      links: { 202: { getStatement: { operationId: 'getStatement', parameters: { id: '$response.body#/id' } } } },
      schema: {
        operationId: 'createStatement',
        'x-problems': ROUTE_PROBLEMS.uploadStatement,
        summary: `Upload a camt.053 bank statement file (XML, at most STATEMENT_BODY_LIMIT_BYTES); one transaction per entry`,
        consumes: XML_TYPES,
        headers: idempotencyHeaders,
        // The file as the bank delivered it: its bytes are the body (an XML document is not a JSON value to
        // wrap in an element, as a tester serialising a string as XML would).
        body: z.string().min(1).meta({ format: 'binary' }),
        response: { 202: acceptedSchema },
      },
    },
    async (request, reply) => {
      const file = await parser.parse(request.body);
      const entries = file.statements.reduce((n, s) => n + s.entries.length, 0);
      const { id, duplicate } = await admitAndStore(request.tenantId, request.body, file, entries);
      const statusUrl = `${publicBaseUrl}/api/v1/statements/${id}`;
      request.log.info({ statementId: id, tenantId: request.tenantId, version: file.version, entries, duplicate }, 'statement accepted');
      const status = duplicate ? ((await ingest.statementStatus(request.tenantId, id, NO_ENTRIES))?.status ?? 'pending') : 'pending';
      return reply
        .code(202)
        .header('Location', statusUrl)
        .send({ id, status, statusUrl, ...(duplicate ? { duplicate } : {}) });
    },
  );
}

/**
 * Every byte the upload will store (its file, its statements document, its entries) measured, then charged
 * before any is stored: kept bytes against the stored-statement quota, all of them against the per-day and
 * waiting quotas. A file with no entries counts as one document.
 */
const admitAndStoreWith =
  ({ ingest, admit, statementQuota }: Pick<StatementsRouteOptions, 'ingest' | 'admit' | 'statementQuota'>) =>
  async (tenantId: string, xml: string, file: Parameters<Ingest['acceptStatement']>[2], entries: number) => {
    const bytes = await measureStatement(tenantId, file, xml);
    const release = await statementQuota.reserve(tenantId, bytes);
    try {
      await admit(tenantId, Math.max(1, entries), storedBytesOf(bytes));
      return await ingest.acceptStatement(tenantId, xml, file);
    } finally {
      // Stored (its statements document in MongoDB's sum from now) or failed: either way no longer held here.
      release();
    }
  };

/** GET /api/v1/statements/{id}: the statement's status and a page of its entries. */
function readOne(app: App, { ingest, db }: StatementsRouteOptions): void {
  app.get(
    '/api/v1/statements/:id',
    {
      onRequest: app.authorize('transactions:read'),
      schema: {
        operationId: 'getStatement',
        'x-problems': ROUTE_PROBLEMS.readPaged,
        summary: "A statement's progress, and a page of its entries with each one's transaction once processed",
        params: z.object({ id: transactionIdSchema }),
        querystring: entriesPageSchema,
        response: { 200: statementViewSchema },
      },
    },
    async (request) => {
      const { limit, starting_after: after } = request.query;
      const start = after === undefined ? 0 : after + 1;
      // Only the page's entries are read, from MongoDB and PostgreSQL: a statement of 40,000 costs a page.
      const status = await ingest.statementStatus(request.tenantId, request.params.id, { start, limit });
      if (!status) throw new HttpProblem(404, 'not-found', `No statement ${request.params.id}.`);
      const { entries: page, ...rest } = status;
      const total = rest.statements.reduce((n, s) => n + s.entries, 0);
      if (after !== undefined && after >= total) {
        throw new HttpProblem(404, 'not-found', `Statement ${request.params.id} has no entry ${after}.`, {
          errors: [{ path: 'querystring.starting_after', message: `no such entry (the statement has ${total})` }],
        });
      }
      const hasMore = start + limit < total;
      const processed = page.flatMap((e) => (e.status === 'processed' && e.rawId ? [e.rawId] : []));
      const transactions = await getTransactions(db, request.tenantId, processed);
      return {
        ...rest,
        entries: page.map(({ index, status: entryStatus, rawId, lastError, removed }) => {
          const transaction = (rawId && transactions.get(rawId)) || null;
          // Retention removed its raw document and it has no row: it was dead (RETENTION_DEAD_SECONDS).
          if (removed && !transaction) return { index, status: 'dead' as const, lastError: REMOVED_DEAD, transaction };
          return { index, status: entryStatus, lastError, transaction };
        }),
        has_more: hasMore,
        next_starting_after: hasMore ? page.at(-1)!.index : null,
      };
    },
  );
}
