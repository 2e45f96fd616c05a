// Bank statements as banks deliver them: POST /api/v1/statements takes a camt.053 XML file, one transaction
// per entry; GET /api/v1/statements/:id gives each entry's progress and transaction.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/postgres.js';
import { type CamtDocument, CamtXmlError, parseCamt053 } from '../../domain/camt053-xml.js';
import { transactionIdSchema } from '../../domain/ids.js';
import { HttpProblem } from '../../http/problem.js';
import { statementStatusSchema } from '../../raw-store/statement-status.js';
import { RAW_STATUSES } from '../../raw-store/states.js';
import type { Ingest } from '../ingest-port.js';
import type { Admit } from '../tenant-quotas.js';
import { getTransactions, transactionDetailSchema } from '../transactions-query.js';

const XML_TYPES = ['application/xml', 'text/xml'];

const acceptedSchema = z.object({
  id: z.string(),
  /** pending when new; for a duplicate, the first upload's status now (as GET /api/v1/statements/{id} tells it). */
  status: z.enum(['pending', 'processed', 'failed']),
  statusUrl: z.string(),
  /** Present and true when these statements had been sent before (in any camt version): `id` is the first upload's. */
  duplicate: z.boolean().optional(),
});

const statementViewSchema = statementStatusSchema.extend({
  entries: z.array(
    z.object({
      index: z.number().int(),
      status: z.enum(RAW_STATUSES),
      lastError: z.string().nullable(),
      transaction: transactionDetailSchema.nullable(),
    }),
  ),
});

export interface StatementsRouteOptions {
  ingest: Ingest;
  db: Database;
  publicBaseUrl?: string;
  bodyLimitBytes: number;
  /** The tenant's quotas, for the file's entries (tenant-quotas.ts). */
  admit: Admit;
}

/** The file's statements, or a 400 naming where the file stops being camt.053. */
function parseOrRefuse(xml: string): CamtDocument {
  try {
    return parseCamt053(xml);
  } catch (error) {
    if (!(error instanceof CamtXmlError)) throw error;
    throw new HttpProblem(400, 'invalid-statement', `The statement file was refused at ${error.message.replace(/\.+$/, '')}.`, {
      errors: [{ path: `body (line ${error.line}, column ${error.column})`, message: error.reason }],
    });
  }
}

export const statementsRoutes: FastifyPluginAsyncZod<StatementsRouteOptions> = async (app, options) => {
  const { ingest, db, publicBaseUrl = '', bodyLimitBytes, admit } = options;
  // In this plugin only: every other route stays JSON-only.
  app.addContentTypeParser(XML_TYPES, { parseAs: 'string', bodyLimit: bodyLimitBytes }, (_request, body, done) => done(null, body));

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
      ],
      // A JSON body would fail the string schema as a 400; the truth is that it is the wrong media type.
      preValidation: async (request) => {
        if (typeof request.body !== 'string')
          throw new HttpProblem(415, 'unsupported-media-type', 'A statement is a camt.053 XML file: send it as application/xml.');
      },
      bodyLimit: bodyLimitBytes,
      schema: {
        summary: `Upload a camt.053 bank statement file (XML, at most STATEMENT_BODY_LIMIT_BYTES); one transaction per entry`,
        consumes: XML_TYPES,
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: z.string().min(1),
        response: { 202: acceptedSchema },
      },
    },
    async (request, reply) => {
      const file = parseOrRefuse(request.body);
      const entries = file.statements.reduce((n, s) => n + s.entries.length, 0);
      if (entries > 0) await admit(request.tenantId, entries);
      const { id, duplicate } = await ingest.acceptStatement(request.tenantId, request.body, file);
      const statusUrl = `${publicBaseUrl}/api/v1/statements/${id}`;
      request.log.info({ statementId: id, tenantId: request.tenantId, version: file.version, entries, duplicate }, 'statement accepted');
      const status = duplicate ? ((await ingest.statementStatus(request.tenantId, id))?.status ?? 'pending') : 'pending';
      return reply
        .code(202)
        .header('Location', statusUrl)
        .send({ id, status, statusUrl, ...(duplicate ? { duplicate } : {}) });
    },
  );

  app.get(
    '/api/v1/statements/:id',
    {
      onRequest: app.authorize('transactions:read'),
      schema: {
        summary: "A statement's progress, and each entry's transaction once processed",
        params: z.object({ id: transactionIdSchema }),
        response: { 200: statementViewSchema },
      },
    },
    async (request) => {
      const status = await ingest.statementStatus(request.tenantId, request.params.id);
      if (!status) throw new HttpProblem(404, 'not-found', `No statement ${request.params.id}.`);
      const processed = status.entries.flatMap((e) => (e.status === 'processed' && e.rawId ? [e.rawId] : []));
      const transactions = await getTransactions(db, request.tenantId, processed);
      const { entries, ...rest } = status;
      return {
        ...rest,
        entries: entries.map(({ index, status: entryStatus, rawId, lastError }) => ({
          index,
          status: entryStatus,
          lastError,
          transaction: (rawId && transactions.get(rawId)) || null,
        })),
      };
    },
  );
};
