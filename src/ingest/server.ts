// Ingestion as its own service, so it scales apart from the gateway: the gateway's HTTP client posts
// already-authenticated envelopes here (with INGEST_TOKEN), and this service stores them through the raw store.
import { z } from 'zod';
import type { Logger } from '../config/logger.js';
import { envelopeSchema } from '../domain/envelope.js';
import { tenantIdSchema, transactionIdSchema } from '../domain/ids.js';
import { createHttpApp, type HttpApp } from '../http/create-http-app.js';
import { type JsonParsing, SLICED_FROM_BYTES, useJsonBodies } from '../http/json-body-parser.js';
import { HttpProblem } from '../http/problem.js';
import { createStatementParser, type StatementParsing } from '../http/statement-parser.js';
import { RAW_STATUSES } from '../raw-store/collections.js';
import { replaySelectorsSchema } from '../raw-store/replay.js';
import { rawStatusSchema } from '../raw-store/status-view.js';
import { requireInternalToken } from './internal-token.js';
import type { MongoIngest } from './mongo-ingest.js';

const acceptedSchema = z.object({ id: z.string(), duplicate: z.boolean(), status: z.enum(RAW_STATUSES).optional() });

export async function buildIngestServer({
  ingest,
  logger,
  bodyLimitBytes,
  statementBodyLimitBytes,
  statementParsing,
  jsonParsing,
  requestTimeoutMs,
  token,
  ops,
}: {
  ingest: MongoIngest;
  logger: Logger;
  /** INGEST_TOKEN: every request but /healthz and /readyz must carry it, or is refused (401) before its body is read. */
  token: string;
  bodyLimitBytes: number;
  statementBodyLimitBytes: number;
  /** How many entries a statement file may hold and how many are parsed at once (http/statement-parser.ts). */
  statementParsing: StatementParsing;
  /** How the gateway's batches (up to BATCH_BODY_LIMIT_BYTES) are parsed here: in slices, a bounded number at once. */
  jsonParsing: JsonParsing;
  /** REQUEST_TIMEOUT_MS, as on the gateway: the time to receive one request (408 past it). */
  requestTimeoutMs?: number;
  /** /healthz and /readyz, mounted by the caller (cli/); /metrics is on the ops port. */
  ops?: (app: HttpApp) => Promise<void>;
}): Promise<HttpApp> {
  const app = await createHttpApp({ logger, component: 'ingest', bodyLimit: bodyLimitBytes, requestTimeout: requestTimeoutMs });
  app.addHook('onRequest', requireInternalToken(token));
  // The gateway bounded each envelope and the body before it sent them on: here the body as a whole, with room for
  // the wrapping, so what the gateway accepted is never refused here.
  const bodyValues = jsonParsing.maxValues + 1_000;
  useJsonBodies(app, { ...jsonParsing, maxValues: bodyValues, maxEnvelopeValues: bodyValues }, { placesFromBytes: SLICED_FROM_BYTES });

  addRawRoutes(app, ingest);
  addStatementRoutes(app, ingest, statementBodyLimitBytes, statementParsing);
  if (ops) await ops(app);
  else app.get('/healthz', async () => ({ status: 'ok' }));
  return app;
}

/** Raw documents: one, a batch, a replay, one's status; each in the tenant the gateway authenticated. */
function addRawRoutes(app: HttpApp, ingest: MongoIngest): void {
  app.post(
    '/internal/v1/raw',
    { schema: { body: z.strictObject({ tenantId: tenantIdSchema, envelope: envelopeSchema }), response: { 201: acceptedSchema } } },
    async (request, reply) => reply.code(201).send(await ingest.accept(request.body.tenantId, request.body.envelope)),
  );
  app.post(
    '/internal/v1/raw/batch',
    {
      schema: {
        body: z.strictObject({ tenantId: tenantIdSchema, envelopes: z.array(envelopeSchema).max(10_000) }),
        response: { 200: z.object({ results: z.array(z.union([acceptedSchema, z.object({ error: z.string() })])) }) },
      },
    },
    async (request) => ({ results: await ingest.acceptMany(request.body.tenantId, request.body.envelopes) }),
  );
  app.post(
    '/internal/v1/replay',
    {
      schema: { body: z.strictObject({ tenantId: tenantIdSchema.nullable(), selectors: replaySelectorsSchema.omit({ tenantId: true }) }) },
    },
    async (request) => ingest.replay(request.body.tenantId, request.body.selectors),
  );
  app.get(
    '/internal/v1/raw/:tenantId/:id',
    { schema: { params: z.object({ tenantId: tenantIdSchema, id: transactionIdSchema }), response: { 200: rawStatusSchema } } },
    async (request) => {
      const status = await ingest.status(request.params.tenantId, request.params.id);
      if (!status) throw new HttpProblem(404, 'not-found', `No raw document ${request.params.id}.`);
      return status;
    },
  );
}

/** A page of a statement's entries; without `limit`, every entry. */
const entriesPageSchema = z.object({
  start: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(0).optional(),
});

/** A camt.053 file as the gateway received (and checked) it, parsed here again; a statement's progress. */
function addStatementRoutes(app: HttpApp, ingest: MongoIngest, bodyLimit: number, parsing: StatementParsing): void {
  const parser = createStatementParser(parsing);
  app.addContentTypeParser(['application/xml', 'text/xml'], { parseAs: 'string', bodyLimit: bodyLimit }, (_request, body, done) =>
    done(null, body),
  );
  app.post(
    '/internal/v1/statements/:tenantId',
    {
      bodyLimit: bodyLimit,
      // The tenant's share of the places, as the gateway gives it, taken before the body is read (the internal
      // token was checked first): several gateways sending one tenant's files never fill this service's queue.
      onRequest: async (request, reply) => parser.admit((request.params as { tenantId: string }).tenantId, reply.raw),
      schema: { params: z.object({ tenantId: tenantIdSchema }), body: z.string(), response: { 201: acceptedSchema } },
    },
    async (request, reply) => {
      const file = await parser.parse(request.body);
      return reply.code(201).send(await ingest.acceptStatement(request.params.tenantId, request.body, file));
    },
  );
  app.get(
    '/internal/v1/statements/:tenantId/:id',
    { schema: { params: z.object({ tenantId: tenantIdSchema, id: transactionIdSchema }), querystring: entriesPageSchema } },
    async (request) => {
      const { start, limit } = request.query;
      const page = limit === undefined ? undefined : { start, limit };
      const status = await ingest.statementStatus(request.params.tenantId, request.params.id, page);
      if (!status) throw new HttpProblem(404, 'not-found', `No statement ${request.params.id}.`);
      return status;
    },
  );
}
