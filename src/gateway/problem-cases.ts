// The errors a route can answer, as its schema declares them (`'x-problems'`, beside its route): one case per
// problem type and the moment it is sent. openapi-contract.ts turns them into the operation's responses;
// docs/api.md's error table lists every type (test/docs/problem-types.test.ts fails on one missing).

/** One way a route can fail: its status, its problem type (`/problems/<type>`) and when it is sent. */
export interface ProblemCase {
  status: number;
  /** The slug of `/problems/<type>`; null for Node's own 408, which has no body. */
  type: string | null;
  when: string;
  /** Sent with Retry-After (seconds) or WWW-Authenticate. */
  headers?: ReadonlyArray<'Retry-After' | 'WWW-Authenticate'>;
}

declare module 'fastify' {
  interface FastifySchema {
    /** What the route can answer besides its successes (openapi-contract.ts). */
    'x-problems'?: readonly ProblemCase[];
  }
}

const RETRY = ['Retry-After'] as const;
const is = (status: number, type: string | null, when: string, headers?: ProblemCase['headers']): ProblemCase => ({
  status,
  type,
  when,
  ...(headers ? { headers } : {}),
});

/** The cases, by name: routes compose their lists from these. */
export const CASES = {
  invalid: is(400, 'validation-error', 'a parameter or field is invalid: `errors` names each path'),
  notJson: is(400, 'bad-request', 'the body is not JSON, or is empty'),
  tooDeep: is(400, 'json-too-deep', 'a JSON body over 64 KiB nests past 128 levels'),
  invalidStatement: is(400, 'invalid-statement', 'the file is not well-formed camt.053 XML: the detail names line and column'),
  unauthorized: is(401, 'unauthorized', 'no API key, or not a valid one', ['WWW-Authenticate']),
  forbidden: is(403, 'forbidden', 'the key lacks the scope of the route'),
  otherTenant: is(403, 'forbidden', 'a key without the operator scope names another tenant'),
  timeout: is(408, null, 'the request was not received whole within REQUEST_TIMEOUT_MS (Node answers, without a body)'),
  idempotencyInFlight: is(409, 'idempotency-in-flight', 'the first request with this Idempotency-Key is still running', RETRY),
  idempotencyConflict: is(409, 'idempotency-conflict', 'the Idempotency-Key changed hands during the request', RETRY),
  endpointDisabled: is(409, 'endpoint-disabled', 'the webhook endpoint is disabled: enable it first'),
  notCorrectable: is(409, 'not-correctable', 'the document is neither failed nor dead'),
  bodyTooLarge: is(413, 'payload-too-large', 'the body is over the route limit (BODY_LIMIT_BYTES; batch: BATCH_BODY_LIMIT_BYTES)'),
  statementTooLarge: is(413, 'payload-too-large', 'the file is over STATEMENT_BODY_LIMIT_BYTES'),
  tooManyValues: is(413, 'json-too-many-values', 'a JSON body over 64 KiB holds more than JSON_MAX_VALUES keys and values'),
  documentTooLarge: is(
    413,
    'document-too-large',
    'a payload MongoDB cannot store (16 MiB less 64 KiB as BSON, or JSON_MAX_ENVELOPE_VALUES)',
  ),
  tooManyEntries: is(413, 'too-many-entries', 'the file holds more than STATEMENT_MAX_ENTRIES entries'),
  statementSpan: is(413, 'statement-too-large', 'one entry spans more than 8 MiB of the file, or its other parts more than 4 MiB'),
  uploadOverQuota: is(413, 'stored-statement-bytes-quota', 'the upload alone stores more than TENANT_MAX_STORED_STATEMENT_BYTES'),
  uploadOverDaily: is(413, 'daily-bytes-quota', 'the upload alone stores more than TENANT_MAX_BYTES_PER_DAY'),
  uploadOverWaiting: is(413, 'waiting-bytes-quota', 'the upload alone stores more than TENANT_MAX_WAITING_BYTES'),
  notJsonType: is(415, 'unsupported-media-type', 'the body is not application/json'),
  notXml: is(415, 'unsupported-media-type', 'the body is not application/xml or text/xml'),
  idempotencyReused: is(422, 'idempotency-key-reused', 'this Idempotency-Key was used with a different request'),
  urlRefused: is(422, 'webhook-url-refused', 'the URL carries credentials, reaches a private address, or does not resolve'),
  endpointLimit: is(422, 'webhook-endpoint-limit', 'the tenant has WEBHOOK_MAX_ENDPOINTS endpoints'),
  rateLimited: is(
    429,
    'rate-limited',
    'the key is over RATE_LIMIT_PER_MINUTE, or its address over UNAUTHENTICATED_RATE_LIMIT_PER_MINUTE',
    RETRY,
  ),
  rateQuota: is(429, 'rate-quota', 'the tenant is over TENANT_DOCS_PER_SECOND', RETRY),
  waitingQuota: is(429, 'waiting-quota', 'the tenant has TENANT_MAX_UNPROCESSED documents not processed', RETRY),
  waitingBytesQuota: is(429, 'waiting-bytes-quota', 'the tenant has TENANT_MAX_WAITING_BYTES waiting', RETRY),
  dailyBytesQuota: is(429, 'daily-bytes-quota', 'the tenant has stored TENANT_MAX_BYTES_PER_DAY today', RETRY),
  storedStatementsQuota: is(429, 'stored-statement-bytes-quota', 'the tenant keeps TENANT_MAX_STORED_STATEMENT_BYTES of statements', RETRY),
  uploadsQuota: is(429, 'statement-uploads-quota', 'the tenant has STATEMENT_PARSE_PER_TENANT uploads in progress', RETRY),
  largeBodiesQuota: is(429, 'large-bodies-quota', 'the tenant has JSON_PARSE_PER_TENANT bodies over BODY_LIMIT_BYTES in progress', RETRY),
  inflightBytesQuota: is(429, 'inflight-bytes-quota', 'the tenant has TENANT_MAX_INFLIGHT_BODY_BYTES of bodies in progress', RETRY),
  inflightSmallBodiesQuota: is(
    429,
    'inflight-small-bodies-quota',
    'the tenant has TENANT_MAX_INFLIGHT_SMALL_BODY_BYTES of bodies up to 64 KiB in progress',
    RETRY,
  ),
  slicedBodiesQuota: is(429, 'sliced-bodies-quota', 'the tenant has JSON_SLICED_PER_TENANT bodies over 64 KiB in progress', RETRY),
  bug: is(500, 'internal-server-error', 'a bug: quote the requestId (nothing internal is in the body)'),
  unavailable: is(503, 'unavailable', 'a database or service this answer needs is unavailable, or a deadline passed', RETRY),
  dnsUnavailable: is(503, 'unavailable', 'the URL host cannot be looked up now (Retry-After: 5)', RETRY),
  jsonBusy: is(503, 'json-parsing-busy', 'the JSON parse queue is full', RETRY),
  inflightBusy: is(503, 'inflight-bytes-busy', 'the gateway holds MAX_INFLIGHT_BODY_BYTES of bodies in progress', RETRY),
  statementsBusy: is(503, 'statement-parsing-busy', 'every statement parse place is taken (Retry-After: 2)', RETRY),
} as const satisfies Record<string, ProblemCase>;

const C = CASES;
/**
 * Every route behind a key: its parameters (a NUL in any query parameter is refused on every route:
 * plugins/strict-input.ts), its rate limit, a dependency down, Node's request timeout, a bug.
 */
const KEYED = [C.invalid, C.unauthorized, C.forbidden, C.timeout, C.rateLimited, C.bug, C.unavailable];
/** A JSON body, read by http/json-body-parser.ts. */
const JSON_BODY = [
  C.notJson,
  C.tooDeep,
  C.bodyTooLarge,
  C.tooManyValues,
  C.notJsonType,
  C.largeBodiesQuota,
  C.inflightBytesQuota,
  C.inflightSmallBodiesQuota,
  C.slicedBodiesQuota,
  C.jsonBusy,
  C.inflightBusy,
];
/** A POST: its Idempotency-Key (plugins/idempotency.ts). */
const IDEMPOTENT = [C.idempotencyInFlight, C.idempotencyConflict, C.idempotencyReused];
/** The tenant quotas an accepted document counts against (tenant-quotas.ts). */
const QUOTAS = [C.rateQuota, C.waitingQuota, C.waitingBytesQuota, C.dailyBytesQuota];

/** The lists the routes declare, by route. */
export const ROUTE_PROBLEMS = {
  readById: [...KEYED, is(404, 'not-found', 'no such resource for this tenant')],
  listByCursor: [...KEYED, is(404, 'not-found', 'the starting_after cursor names nothing this tenant has')],
  readPaged: [...KEYED, is(404, 'not-found', 'no such resource for this tenant, or starting_after past its last item')],
  /** An admin read: another tenant named by a key that is not an operator's. */
  adminRead: [...KEYED, C.otherTenant],
  list: KEYED,
  acceptTransaction: [...KEYED, ...JSON_BODY, ...IDEMPOTENT, ...QUOTAS, C.documentTooLarge],
  acceptBatch: [...KEYED, ...JSON_BODY, ...IDEMPOTENT, ...QUOTAS, C.documentTooLarge],
  uploadStatement: [
    ...KEYED,
    C.invalidStatement,
    C.statementTooLarge,
    C.tooManyEntries,
    C.statementSpan,
    C.documentTooLarge,
    C.uploadOverQuota,
    C.uploadOverDaily,
    C.uploadOverWaiting,
    C.notXml,
    ...IDEMPOTENT,
    ...QUOTAS,
    C.storedStatementsQuota,
    C.uploadsQuota,
    C.statementsBusy,
  ],
  replay: [...KEYED, ...JSON_BODY, ...IDEMPOTENT, C.otherTenant],
  correctPayload: [
    ...KEYED,
    ...JSON_BODY,
    ...IDEMPOTENT,
    is(404, 'not-found', 'no such document for this key'),
    C.notCorrectable,
    C.documentTooLarge,
  ],
  /** A DELETE takes no body, but Fastify reads one that is sent as it reads any: refused as any is. */
  deleteEndpoint: [...KEYED, ...JSON_BODY, is(404, 'not-found', 'no such webhook endpoint for this tenant')],
  createEndpoint: [...KEYED, ...JSON_BODY, ...IDEMPOTENT, C.urlRefused, C.endpointLimit, C.dnsUnavailable],
  updateEndpoint: [
    ...KEYED,
    ...JSON_BODY,
    is(404, 'not-found', 'no such webhook endpoint for this tenant'),
    C.urlRefused,
    C.dnsUnavailable,
  ],
  resend: [
    ...KEYED,
    ...JSON_BODY,
    ...IDEMPOTENT,
    is(404, 'not-found', 'no such webhook endpoint, or no such event (older than the events kept)'),
    C.endpointDisabled,
  ],
} as const satisfies Record<string, readonly ProblemCase[]>;
