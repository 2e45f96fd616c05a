// Completes the OpenAPI document generated from the route schemas into the whole contract: every error an
// operation can answer, the headers that come with them, the strict Idempotency-Key format.
import { PARAMETER_EXAMPLES, PROBLEM_EXAMPLES, REQUEST_EXAMPLES, RESPONSE_EXAMPLES } from './openapi-examples.js';
import { IDEMPOTENCY_KEY_PATTERN } from './plugins/idempotency.js';

type Json = Record<string, unknown>;

const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string', description: 'A URI reference naming the problem, e.g. /problems/validation-error' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } }, required: ['path', 'message'] },
    },
  },
  required: ['type', 'title', 'status', 'detail', 'instance'],
};

/**
 * What a payload may hold (docs/api.md, "The storage rule for payloads"): any JSON, but no key starting with "$"
 * or containing NUL, and no string containing NUL; keys "__proto__", "constructor" and "prototype" and
 * nesting beyond 32 levels are refused too, which a schema generator will not produce.
 */
const payloadSchemas = {
  Payload: {
    type: 'object',
    description: 'Schema-free per source: any JSON object within the storage rules',
    propertyNames: { pattern: '^(?:[^$\\u0000][^\\u0000]*)?$' },
    additionalProperties: { $ref: '#/components/schemas/PayloadValue' },
  },
  PayloadValue: {
    anyOf: [
      { type: 'null' },
      { type: 'string', pattern: '^[^\\u0000]*$' },
      { type: 'number' },
      { type: 'boolean' },
      { type: 'array', items: { $ref: '#/components/schemas/PayloadValue' } },
      { $ref: '#/components/schemas/Payload' },
    ],
  },
};

const header = (description: string, schema: Json = { type: 'string' }) => ({ description, schema });
/** The response headers the contract names, by their HTTP names. */
const headers = {
  Location: header('Where the transaction can be read: its status URL'),
  'Idempotent-Replayed': header('"true" when this is the stored answer to an earlier request with the same Idempotency-Key', {
    type: 'string',
    enum: ['true'],
  }),
  'Retry-After': header('Seconds to wait before retrying', { type: 'string', pattern: '^[0-9]+$' }),
  'WWW-Authenticate': header('The authentication scheme: Bearer'),
};
type HeaderName = keyof typeof headers;
const ref = (kind: 'responses' | 'schemas', name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** A problem+json response, with the headers it always carries and, where one is written, an example. */
const problem = (description: string, required: HeaderName[] = [], example?: Json) => ({
  description,
  ...(required.length ? { headers: Object.fromEntries(required.map((name) => [name, { ...headers[name], required: true }])) } : {}),
  content: { 'application/problem+json': { schema: ref('schemas', 'Problem'), ...(example ? { example } : {}) } },
});

const responses = {
  BadRequest: problem('The request is invalid: `errors` names each offending path', [], PROBLEM_EXAMPLES.BadRequest),
  Unauthorized: problem('No API key, or not a valid one', ['WWW-Authenticate'], PROBLEM_EXAMPLES.Unauthorized),
  Forbidden: problem('The API key lacks the scope this operation needs', [], PROBLEM_EXAMPLES.Forbidden),
  NotFound: problem(
    'No such transaction or document for this tenant (the id, or the starting_after cursor)',
    [],
    PROBLEM_EXAMPLES.NotFound,
  ),
  Conflict: problem('A request with this Idempotency-Key is still in flight', ['Retry-After'], PROBLEM_EXAMPLES.Conflict),
  ConflictOnResource: problem(
    'A request with this Idempotency-Key is still in flight (with Retry-After), or the resource is not in a state this operation accepts (without)',
    [],
    PROBLEM_EXAMPLES.ConflictOnResource,
  ),
  PayloadTooLarge: problem(
    'The body exceeds the size limit or JSON_MAX_VALUES keys and values (type /problems/json-too-many-values), or its payload is more than MongoDB can store in one document (16 MiB as BSON) or more than JSON_MAX_ENVELOPE_VALUES keys and values (/problems/document-too-large), or a statement upload stores more by itself than a byte quota of its tenant allows (the type names the quota)',
    [],
    PROBLEM_EXAMPLES.PayloadTooLarge,
  ),
  UnsupportedMediaType: problem('The body is not application/json', [], PROBLEM_EXAMPLES.UnsupportedMediaType),
  UnprocessableContent: problem(
    'This Idempotency-Key was used with a different request; or a webhook URL refused, or the tenant at WEBHOOK_MAX_ENDPOINTS',
    [],
    PROBLEM_EXAMPLES.UnprocessableContent,
  ),
  TooManyRequests: problem(
    'The API key exceeded its rate limit, or the tenant one of its quotas (type /problems/rate-quota, /problems/waiting-quota, /problems/waiting-bytes-quota, /problems/daily-bytes-quota, /problems/stored-statement-bytes-quota: a statement upload over the bytes the statements of its tenant may keep stored, or /problems/statement-uploads-quota: too many statement uploads in progress at once, or /problems/large-bodies-quota: too many JSON bodies over BODY_LIMIT_BYTES, or /problems/inflight-bytes-quota: more bytes of JSON bodies in progress at once than TENANT_MAX_INFLIGHT_BODY_BYTES)',
    ['Retry-After'],
    PROBLEM_EXAMPLES.TooManyRequests,
  ),
  ServiceUnavailable: problem(
    'A database this answer needs is unavailable, or the gateway is busy (type /problems/json-parsing-busy: the JSON parse queue is full; /problems/inflight-bytes-busy: MAX_INFLIGHT_BODY_BYTES of bodies in progress); retry after Retry-After seconds (requestId names the request in the logs)',
    ['Retry-After'],
    PROBLEM_EXAMPLES.ServiceUnavailable,
  ),
};

/**
 * The errors every authenticated operation can answer, and those of POSTs (a body) and GETs (an id or a
 * cursor). A POST on one resource (`/{id}/…`) can also find no such resource, or find it in a state that
 * refuses the operation: a 409 that no retry will change, so without Retry-After.
 */
function errorsOf(method: string, path: string): Record<string, Json> {
  const all: Record<string, Json> = {
    400: ref('responses', 'BadRequest'),
    401: ref('responses', 'Unauthorized'),
    403: ref('responses', 'Forbidden'),
    429: ref('responses', 'TooManyRequests'),
    503: ref('responses', 'ServiceUnavailable'),
  };
  if (method === 'post') {
    Object.assign(all, {
      409: ref('responses', 'Conflict'),
      413: ref('responses', 'PayloadTooLarge'),
      415: ref('responses', 'UnsupportedMediaType'),
      422: ref('responses', 'UnprocessableContent'),
    });
    if (path.includes('{')) Object.assign(all, { 404: ref('responses', 'NotFound'), 409: ref('responses', 'ConflictOnResource') });
  }
  // A change of a resource by id (a webhook endpoint): it may not exist; a body may be too large, of another
  // type, or refused (a URL that reaches a private address).
  if (method === 'patch')
    Object.assign(all, {
      404: ref('responses', 'NotFound'),
      413: ref('responses', 'PayloadTooLarge'),
      415: ref('responses', 'UnsupportedMediaType'),
      422: ref('responses', 'UnprocessableContent'),
    });
  // By id, or a list whose starting_after cursor names a transaction the tenant does not have.
  if (method === 'get' || method === 'delete') all[404] = ref('responses', 'NotFound');
  return all;
}

/**
 * Route schemas declare their successes; the rules here declare the rest, from what each operation is (a POST
 * with a body, a read by id, a read of a list).
 */
export function completeContract(document: Json): Json {
  const components = (document.components ?? {}) as Json;
  components.schemas = { ...(components.schemas as Json), Problem: problemSchema, ...payloadSchemas };
  components.responses = { ...(components.responses as Json), ...responses };
  document.components = components;

  for (const [path, operations] of Object.entries((document.paths ?? {}) as Record<string, Record<string, Json>>)) {
    if (!path.startsWith('/api/')) continue;
    for (const [method, operation] of Object.entries(operations)) {
      const ownResponses = (operation.responses ?? {}) as Record<string, Json>;
      for (const [status, response] of Object.entries(ownResponses)) {
        if ('$ref' in response) continue; // a shared error response (the document was completed before)
        if (response.description === 'Default Response') response.description = 'Success';
        if (method === 'post') {
          response.headers = {
            ...(status === '202' ? { Location: { ...headers.Location, required: true } } : {}),
            'Idempotent-Replayed': { ...headers['Idempotent-Replayed'], required: false },
          };
        }
      }
      operation.responses = { ...ownResponses, ...errorsOf(method, path) };
      addExamples(operation, `${method} ${path}`);
      const body = (operation.requestBody as { content?: Record<string, { schema?: Json }> } | undefined)?.content?.['application/json']
        ?.schema;
      const properties = body?.properties as Record<string, Json> | undefined;
      if (properties?.payload) properties.payload = ref('schemas', 'Payload');
      for (const parameter of (operation.parameters ?? []) as Json[]) {
        if (parameter.in === 'header' && parameter.name === 'idempotency-key') {
          parameter.name = 'Idempotency-Key';
          parameter.description = 'Makes a retried POST safe: the first answer is stored for IDEMPOTENCY_TTL_MS and replayed';
          parameter.schema = { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN };
        }
      }
    }
  }
  return document;
}

/** The operation's examples (openapi-examples.ts): request bodies by media type, parameters, success answers. */
function addExamples(operation: Json, key: string): void {
  const content = (operation.requestBody as { content?: Record<string, Json> } | undefined)?.content ?? {};
  for (const [mediaType, examples] of Object.entries(REQUEST_EXAMPLES[key] ?? {})) {
    if (content[mediaType]) content[mediaType].examples = examples;
  }
  for (const parameter of (operation.parameters ?? []) as Json[]) {
    // An operation's own example first (`post /api/v1/webhook-endpoints/{id} id`), else the name's.
    const value = PARAMETER_EXAMPLES[`${key} ${parameter.name as string}`] ?? PARAMETER_EXAMPLES[parameter.name as string];
    if (value !== undefined) parameter.example = value;
  }
  const responses = operation.responses as Record<string, { content?: Record<string, Json> }>;
  for (const [status, examples] of Object.entries(RESPONSE_EXAMPLES[key] ?? {})) {
    const media = responses[status]?.content?.['application/json'];
    if (media) media.examples = examples;
  }
}
