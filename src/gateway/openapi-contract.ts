// Completes the OpenAPI document generated from the route schemas into the whole contract: the errors each
// route declares it can answer (problem-cases.ts), the headers that come with them, the Idempotency-Key format.
import { PARAMETER_EXAMPLES, PROBLEM_EXAMPLES, REQUEST_EXAMPLES, RESPONSE_EXAMPLES } from './openapi-examples.js';
import { IDEMPOTENCY_KEY_PATTERN } from './plugins/idempotency.js';
import type { ProblemCase } from './problem-cases.js';

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
  Location: header('Where what was created can be read: its status URL'),
  'Idempotent-Replayed': header('"true" when this is the stored answer to an earlier request with the same Idempotency-Key', {
    type: 'string',
    enum: ['true'],
  }),
  'Retry-After': header('Seconds to wait before retrying', { type: 'string', pattern: '^[0-9]+$' }),
  'WWW-Authenticate': header('The authentication scheme: Bearer'),
};
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The operations whose success carries Location (the status URL of what they accepted). */
const WITH_LOCATION = new Set(['createTransaction', 'createStatement']);

/** The response of one status: each case's type and when, the headers all of them carry, the types' examples. */
function problemResponse(cases: ProblemCase[]): Json {
  const description = [...new Set(cases.map((c) => (c.type ? `\`/problems/${c.type}\`: ${c.when}` : c.when)))].join('; ');
  // Node's own 408 (requestTimeout) is written before any route runs: no body.
  if (cases.every((c) => c.type === null)) return { description };
  const types = [...new Set(cases.flatMap((c) => (c.type ? [`/problems/${c.type}`] : [])))];
  const names = [...new Set(cases.flatMap((c) => c.headers ?? []))];
  const always = (name: string) => cases.every((c) => c.headers?.includes(name as never));
  // One example per type that has one (openapi-examples.ts), named by its type.
  const examples = Object.fromEntries(
    cases.flatMap((c) => (c.type && PROBLEM_EXAMPLES[c.type] ? [[c.type, { summary: c.when, value: PROBLEM_EXAMPLES[c.type] }]] : [])),
  );
  return {
    description,
    ...(names.length ? { headers: Object.fromEntries(names.map((name) => [name, { ...headers[name], required: always(name) }])) } : {}),
    content: {
      'application/problem+json': {
        schema: { allOf: [ref('Problem'), { properties: { type: { enum: types } } }] },
        ...(Object.keys(examples).length ? { examples } : {}),
      },
    },
  };
}

/** The route's declared problems (`'x-problems'`, problem-cases.ts) as responses by status. */
function errorsOf(cases: readonly ProblemCase[]): Record<string, Json> {
  const byStatus = new Map<number, ProblemCase[]>();
  for (const c of cases) byStatus.set(c.status, [...(byStatus.get(c.status) ?? []), c]);
  return Object.fromEntries([...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [String(status), problemResponse(list)]));
}

/** What every success of an operation carries: Location where it is sent, Idempotent-Replayed on a POST. */
function completeSuccesses(method: string, operation: Json): void {
  for (const [status, response] of Object.entries((operation.responses ?? {}) as Record<string, Json>)) {
    if (response.description === 'Default Response') response.description = 'Success';
    if (method !== 'post') continue;
    response.headers = {
      ...(WITH_LOCATION.has(operation.operationId as string) && status.startsWith('20')
        ? { Location: { ...headers.Location, required: true } }
        : {}),
      'Idempotent-Replayed': { ...headers['Idempotent-Replayed'], required: false },
    };
  }
}

/**
 * Every POST honours Idempotency-Key (plugins/idempotency.ts): its parameter, by its HTTP name and format; a
 * deprecated parameter marked so.
 */
function completeParameters(operation: Json): void {
  for (const parameter of (operation.parameters ?? []) as Json[]) {
    if (parameter.in === 'header' && parameter.name === 'idempotency-key') {
      parameter.name = 'Idempotency-Key';
      parameter.description = 'Makes a retried POST safe: the first answer is stored for IDEMPOTENCY_TTL_MS and replayed';
      parameter.schema = { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN };
    }
    // A parameter kept under an old name says so where clients look: on the parameter, not only its schema.
    if ((parameter.schema as Json | undefined)?.deprecated) parameter.deprecated = true;
  }
}

/**
 * Route schemas declare their successes, operationId and problems (`'x-problems'`); this makes those
 * problems responses and adds what every operation of a kind carries. A route under /api/ without an
 * operationId or without its problems is a mistake found when the document is built.
 */
export function completeContract(document: Json): Json {
  const components = (document.components ?? {}) as Json;
  components.schemas = { ...(components.schemas as Json), Problem: problemSchema, ...payloadSchemas };
  document.components = components;

  for (const [path, operations] of Object.entries((document.paths ?? {}) as Record<string, Record<string, Json>>)) {
    if (!path.startsWith('/api/')) continue;
    for (const [method, operation] of Object.entries(operations)) {
      const cases = operation['x-problems'] as readonly ProblemCase[] | undefined;
      if (!operation.operationId || !cases) throw new Error(`${method} ${path} declares no operationId or no x-problems`);
      delete operation['x-problems'];
      completeSuccesses(method, operation);
      operation.responses = { ...(operation.responses as Json), ...errorsOf(cases) };
      addExamples(operation, `${method} ${path}`);
      const body = (operation.requestBody as { content?: Record<string, { schema?: Json }> } | undefined)?.content?.['application/json']
        ?.schema;
      const properties = body?.properties as Record<string, Json> | undefined;
      if (properties?.payload) properties.payload = ref('Payload');
      completeParameters(operation);
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
