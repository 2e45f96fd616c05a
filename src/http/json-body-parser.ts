// JSON bodies as the gateway and the ingestion service read them: a small body with JSON.parse as Fastify
// does (the common path costs nothing more), a large one in slices that let the event loop run, refused as
// soon as it nests or counts past the limits, a bounded number at once, a tenant's share taken before reading.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { type ParsedTokenInfo, Tokenizer, TokenParser, TokenType } from '@streamparser/json';
import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { scan as scanPoisoning } from 'secure-json-parse';
import { FairSlots } from './fair-slots.js';
import { HttpProblem } from './problem.js';
import { StatementPlaces } from './statement-places.js';

/** Bodies up to this size are parsed at once with JSON.parse (at most a few ms, however crafted); larger ones in slices. */
export const SLICED_FROM_BYTES = 64 * 1024;
/**
 * Nesting a body read in slices may reach: twice what the door accepts anywhere in an envelope (MAX_JSON_DEPTH),
 * so a batch item nested too deep is still refused in its own 207 result, and a body of brackets is cut at once.
 */
export const MAX_SLICED_DEPTH = 128;
/** How long one slice may hold the event loop before the parse yields to other requests. */
const SLICE_MS = 8;
const CHUNK_BYTES = 16 * 1024;
const RETRY_AFTER_S = 1;

export interface JsonParsing {
  /** Keys and values (objects, arrays, strings, numbers, literals) one body may hold (JSON_MAX_VALUES); past it, 413. */
  maxValues: number;
  /**
   * Keys and values one envelope may hold (JSON_MAX_ENVELOPE_VALUES): a batch's item, a single POST's body. What
   * follows parsing (the door's scan, validation, sizing) costs in proportion, item by item; past it, 413.
   */
  maxEnvelopeValues: number;
  /** Large bodies parsed at once (JSON_PARSE_CONCURRENCY); they take turns, slice by slice. */
  concurrency: number;
  /** Large bodies waiting for a turn (JSON_PARSE_QUEUE); one more is a 503 with Retry-After. */
  queueMax: number;
  /** Large bodies one tenant may have in progress (JSON_PARSE_PER_TENANT); one more is a 429 with Retry-After. */
  perTenant: number;
  /** Bodies of any size waiting for their turn to be parsed in slices (JSON_SLICED_QUEUE); one more is a 503 with Retry-After. */
  slicedQueueMax: number;
  /**
   * Bodies over SLICED_FROM_BYTES and at most the server-wide limit one tenant may have in progress
   * (JSON_SLICED_PER_TENANT); one more is a 429 with Retry-After, so no tenant fills the queue the others wait in.
   */
  slicedPerTenant: number;
}

/**
 * Body bytes in flight (announced, read, parsed or handled, until answered) on one gateway: per tenant
 * (TENANT_MAX_INFLIGHT_BODY_BYTES; past it, 429) and in all (MAX_INFLIGHT_BODY_BYTES; past it, 503).
 */
export interface InflightBodies {
  perTenantBytes: number;
  totalBytes: number;
  /**
   * Bytes of bodies at or under SLICED_FROM_BYTES one tenant may have in progress at once (TENANT_MAX_INFLIGHT_SMALL_BODY_BYTES;
   * past it, 429): they are parsed and checked at once, not in slices, so their bytes in flight are the event
   * loop's work one tenant can queue ahead of everyone's (about 60 ns a byte).
   */
  perTenantSmallBytes: number;
}

type PoisonAction = 'error' | 'remove' | 'ignore';

/**
 * Where a route's body holds its envelopes: the containers opened at `depth` (1: the body is one), named by
 * their index among them. The batch routes' items are at depth 3: `{"items": [ {…}, … ]}`.
 */
export interface EnvelopesAt {
  depth: number;
  path: (index: number) => string;
}

const WHOLE_BODY: EnvelopesAt = { depth: 1, path: () => 'body' };

/** Why a body was cut off while it was read: too deep (400), too many values in all (413). */
function limitProblem(kind: 'depth' | 'values', limit: number, offset: number): HttpProblem {
  if (kind === 'depth') {
    return new HttpProblem(
      400,
      'json-too-deep',
      `The JSON body nests deeper than ${limit} levels (at byte ${offset}); no request of this API needs as many.`,
      { errors: [{ path: 'body', message: `nested deeper than ${limit} levels` }] },
    );
  }
  return new HttpProblem(
    413,
    'json-too-many-values',
    `The JSON body holds more than ${limit} keys and values (JSON_MAX_VALUES; the one at byte ${offset} is one too many): send fewer or smaller items.`,
    { errors: [{ path: 'body', message: `more than ${limit} keys and values` }] },
  );
}

/** What a client is told of an envelope past JSON_MAX_ENVELOPE_VALUES: a document too large, counted in values. */
export const envelopeTooLargeDetail = (path: string, limit: number) =>
  `${path} holds more than ${limit} keys and values (JSON_MAX_ENVELOPE_VALUES): no transaction needs as many.`;

/**
 * An envelope of a batch past JSON_MAX_ENVELOPE_VALUES, left unbuilt where it stood: the route refuses that item
 * alone (413 document-too-large in its result), as it refuses one MongoDB could not store.
 */
export class EnvelopeOverLimit {
  constructor(
    readonly path: string,
    readonly limit: number,
  ) {}
}

const isValueToken = (token: TokenType) =>
  token !== TokenType.RIGHT_BRACE &&
  token !== TokenType.RIGHT_BRACKET &&
  token !== TokenType.COLON &&
  token !== TokenType.COMMA &&
  token !== TokenType.SEPARATOR;

type Limits = Pick<JsonParsing, 'maxValues' | 'maxEnvelopeValues'> & { envelopes: EnvelopesAt };

/**
 * Counts what the tokenizer finds and hands it on to `outer`, each envelope built by a builder of its own:
 * refuses past the depth or the body's count before building more; an envelope past its count is no longer built
 * (the body, when it is the envelope; else a marker stands in its place).
 */
function guardTokens({ maxValues, maxEnvelopeValues, envelopes }: Limits, outer: TokenParser) {
  const seen = { depth: 0, values: 0, poisonable: false, envelopes: 0 };
  let envelope: { builder: TokenParser | undefined; value: unknown; values: number } | undefined;
  const startEnvelope = () => {
    const builder = new TokenParser({ paths: ['$'], keepStack: false });
    const started = { builder, value: undefined as unknown, values: 0 };
    builder.onValue = ({ value }) => {
      started.value = value;
    };
    return started;
  };
  const build = (info: ParsedTokenInfo, counts: boolean) => {
    if (counts && ++seen.values > maxValues) throw limitProblem('values', maxValues, info.offset);
    (envelope?.builder ?? outer).write(info);
  };
  const onToken = (info: ParsedTokenInfo) => {
    const opens = info.token === TokenType.LEFT_BRACE || info.token === TokenType.LEFT_BRACKET;
    if (opens && ++seen.depth > MAX_SLICED_DEPTH) throw limitProblem('depth', MAX_SLICED_DEPTH, info.offset);
    if (opens && seen.depth === envelopes.depth) envelope = startEnvelope();
    // Keys are strings too: only bodies holding one of these need secure-json-parse's scan afterwards.
    if (info.token === TokenType.STRING && (info.value === '__proto__' || info.value === 'constructor')) seen.poisonable = true;
    const counts = isValueToken(info.token);
    if (!envelope) build(info, counts);
    else if (envelope.builder) {
      if (counts && ++envelope.values > maxEnvelopeValues) {
        const path = envelopes.path(seen.envelopes);
        if (envelopes.depth === 1) throw new HttpProblem(413, 'document-too-large', envelopeTooLargeDetail(path, maxEnvelopeValues));
        // What was built of it is dropped, and no longer counts against the body.
        seen.values -= envelope.values - 1;
        envelope.builder = undefined;
      } else build(info, counts);
    }
    const closes = info.token === TokenType.RIGHT_BRACE || info.token === TokenType.RIGHT_BRACKET;
    if (closes && envelope && seen.depth === envelopes.depth) {
      const value = envelope.builder ? envelope.value : new EnvelopeOverLimit(envelopes.path(seen.envelopes), maxEnvelopeValues);
      envelope = undefined;
      seen.envelopes++;
      // The envelope, whole, where it stands: the builder takes any value a token carries.
      outer.write({ token: TokenType.STRING, value: value as string });
    }
    if (closes) seen.depth--;
  };
  return { seen, onToken };
}

/**
 * The body's value, parsed SLICE_MS at a time with a turn of the event loop between slices; a 400/413 problem
 * past the limits; Fastify's own invalid-JSON error for anything JSON.parse would refuse.
 */
export async function parseJsonInSlices(body: Buffer, limits: Limits): Promise<{ value: unknown; poisonable: boolean }> {
  const tokenizer = new Tokenizer();
  const builder = new TokenParser({ paths: ['$'], keepStack: false });
  let root: unknown;
  builder.onValue = ({ value }) => {
    root = value;
  };
  const { seen, onToken } = guardTokens(limits, builder);
  tokenizer.onToken = onToken;
  try {
    // secure-json-parse (Fastify's parser) drops a leading byte-order mark; so does the tokenizer.
    for (let at = 0; at < body.length; ) {
      const started = performance.now();
      do {
        tokenizer.write(body.subarray(at, at + CHUNK_BYTES));
        at += CHUNK_BYTES;
      } while (at < body.length && performance.now() - started < SLICE_MS);
      if (at < body.length) await nextTurn();
    }
    tokenizer.end();
    if (!builder.isEnded) throw new Error('the body ends before its value does');
  } catch (error) {
    if (error instanceof HttpProblem) throw error;
    throw new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY();
  }
  return { value: root, poisonable: seen.poisonable };
}

/** Fastify's prototype-poisoning rules, as its own parser applies them, for a value built by the tokenizer. */
function applyPoisonRules(value: unknown, protoAction: PoisonAction, constructorAction: PoisonAction): void {
  if ((protoAction === 'ignore' && constructorAction === 'ignore') || value === null || typeof value !== 'object') return;
  try {
    scanPoisoning(value as Record<string, unknown>, { protoAction, constructorAction, safe: false });
  } catch {
    throw new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY();
  }
}

/** The body's announced length: unbounded when chunked, none when neither header is sent (a GET's, say). */
const contentLength = (request: FastifyRequest) => {
  const header = request.headers['content-length'];
  if (header !== undefined) return Number(header);
  return request.headers['transfer-encoding'] === undefined ? 0 : Number.POSITIVE_INFINITY;
};

/**
 * The bytes a request's body may take, known before it is read: what it announces (`length`, its
 * contentLength), or the route's limit for a chunked one (it may send that much); 0 for none.
 */
const announcedBytes = (request: FastifyRequest, length: number) => {
  return length > 0 ? Math.min(length, request.routeOptions.bodyLimit ?? Number.POSITIVE_INFINITY) : 0;
};

/** 1 MiB, 64 KiB: a size as the limits' table says it. */
const sizeOf = (bytes: number) => (bytes % 1_048_576 === 0 ? `${bytes / 1_048_576} MiB` : `${Math.round(bytes / 1024)} KiB`);

const isJson = (request: FastifyRequest) => request.headers['content-type']?.split(';')[0]?.trim().toLowerCase() === 'application/json';

/** The 429 of a tenant with TENANT_MAX_INFLIGHT_SMALL_BODY_BYTES of bodies to be parsed at once in progress (no limit in all). */
function smallBodyPlaces({ perTenantSmallBytes }: InflightBodies): StatementPlaces {
  return new StatementPlaces(
    Number.POSITIVE_INFINITY,
    perTenantSmallBytes,
    () => new HttpProblem(503, 'inflight-bytes-busy', 'never: small bodies have no limit in all'),
    (tenantId, held) =>
      new HttpProblem(
        429,
        'inflight-small-bodies-quota',
        `Tenant ${tenantId} has ${sizeOf(held)} of JSON bodies of up to ${sizeOf(SLICED_FROM_BYTES)} in progress (being sent, parsed or handled); at most ${sizeOf(perTenantSmallBytes)} at once (TENANT_MAX_INFLIGHT_SMALL_BODY_BYTES). Retry once one is answered.`,
        { headers: { 'retry-after': String(RETRY_AFTER_S) } },
      ),
  );
}

/** The 429 and 503 of body bytes in flight: a tenant past its budget, a gateway past its own. */
function inflightPlaces({ perTenantBytes, totalBytes }: InflightBodies): StatementPlaces {
  const retryAfter = { headers: { 'retry-after': String(RETRY_AFTER_S) } };
  return new StatementPlaces(
    totalBytes,
    perTenantBytes,
    () =>
      new HttpProblem(
        503,
        'inflight-bytes-busy',
        `This gateway holds ${sizeOf(totalBytes)} of request bodies in progress (MAX_INFLIGHT_BODY_BYTES): send this one again shortly.`,
        retryAfter,
      ),
    (tenantId, held) =>
      new HttpProblem(
        429,
        'inflight-bytes-quota',
        `Tenant ${tenantId} has ${sizeOf(held)} of request bodies in progress (being sent, parsed or handled); at most ${sizeOf(perTenantBytes)} at once (TENANT_MAX_INFLIGHT_BODY_BYTES, a chunked body counting as its route's limit). Retry once one is answered.`,
        retryAfter,
      ),
  );
}

/** The 503 of a body over the server-wide limit when every place for one is taken. */
const largeBusy =
  ({ concurrency, queueMax }: JsonParsing, placesFromBytes: number) =>
  () =>
    new HttpProblem(
      503,
      'json-parsing-busy',
      `${concurrency} JSON bodies over ${sizeOf(placesFromBytes)} are being read and ${queueMax} wait their turn (or are on their way): send this one again shortly.`,
      { headers: { 'retry-after': String(RETRY_AFTER_S) } },
    );

/** Places for bodies over the server-wide limit: `concurrency + queueMax` in all, `perTenant` a tenant. */
function largeBodyPlaces({ concurrency, queueMax, perTenant }: JsonParsing, placesFromBytes: number, busy: () => HttpProblem) {
  return new StatementPlaces(
    concurrency + queueMax,
    perTenant,
    busy,
    (tenantId, held) =>
      new HttpProblem(
        429,
        'large-bodies-quota',
        `Tenant ${tenantId} has ${held} JSON bodies over ${sizeOf(placesFromBytes)} in progress (being sent, parsed or handled); at most ${perTenant} at once (JSON_PARSE_PER_TENANT). Retry once one is answered.`,
        { headers: { 'retry-after': String(RETRY_AFTER_S) } },
      ),
  );
}

/**
 * Places for bodies parsed in slices up to the server-wide limit: as many as may wait and be parsed
 * (JSON_SLICED_QUEUE + JSON_PARSE_CONCURRENCY), `slicedPerTenant` a tenant.
 */
function slicedBodyPlaces({ concurrency, slicedQueueMax, slicedPerTenant }: JsonParsing) {
  const retryAfter = { headers: { 'retry-after': String(RETRY_AFTER_S) } };
  return new StatementPlaces(
    slicedQueueMax + concurrency,
    slicedPerTenant,
    () =>
      new HttpProblem(
        503,
        'json-parsing-busy',
        `${slicedQueueMax + concurrency} JSON bodies over ${sizeOf(SLICED_FROM_BYTES)} are in progress on this service (JSON_SLICED_QUEUE): send this one again shortly.`,
        retryAfter,
      ),
    (tenantId, held) =>
      new HttpProblem(
        429,
        'sliced-bodies-quota',
        `Tenant ${tenantId} has ${held} JSON bodies over ${sizeOf(SLICED_FROM_BYTES)} in progress (being sent, parsed or handled); at most ${slicedPerTenant} at once (JSON_SLICED_PER_TENANT). Retry once one is answered.`,
        retryAfter,
      ),
  );
}

/**
 * Replaces the app's application/json parser (before its routes are registered): bodies over SLICED_FROM_BYTES
 * are parsed in slices (`envelopesAt`: where a route's body holds several envelopes, by route URL), at most
 * `concurrency` at once, `slicedQueueMax` waiting. An authenticated request announcing a body over `placesFromBytes`
 * (the server-wide limit, which only the batch route exceeds; or no length: chunked) takes one of
 * `concurrency + queueMax` places before it is read, at most `perTenant` per tenant; one over SLICED_FROM_BYTES up
 * to that limit, one of `slicedQueueMax + concurrency`, at most `slicedPerTenant` per tenant; with `inflight`, every
 * authenticated JSON body takes its announced bytes of the tenant's budget and the gateway's, before it is read.
 */
export function useJsonBodies(
  app: FastifyInstance,
  parsing: JsonParsing,
  {
    envelopesAt = {},
    placesFromBytes,
    inflight,
  }: { envelopesAt?: Record<string, EnvelopesAt>; placesFromBytes: number; inflight?: InflightBodies },
): void {
  const busy = largeBusy(parsing, placesFromBytes);
  const places = largeBodyPlaces(parsing, placesFromBytes, busy);
  const sliced = slicedBodyPlaces(parsing);
  const bytes = inflight && inflightPlaces(inflight);
  const small = inflight && smallBodyPlaces(inflight);
  // preParsing runs after onRequest (the key is known) and before the body is read.
  app.addHook('preParsing', async (request, reply) => {
    const tenantId = (request as { tenantId?: string }).tenantId;
    if (!tenantId || !isJson(request)) return;
    // A large body's place first: a tenant past JSON_PARSE_PER_TENANT is told that, whatever its bytes.
    const length = contentLength(request);
    if (length > placesFromBytes) places.holdUntilAnswered(tenantId, reply.raw);
    else if (length > SLICED_FROM_BYTES) sliced.holdUntilAnswered(tenantId, reply.raw);
    const announced = announcedBytes(request, length);
    if (announced <= 0) return;
    if (announced <= SLICED_FROM_BYTES) small?.holdUntilAnswered(tenantId, reply.raw, announced);
    bytes?.holdUntilAnswered(tenantId, reply.raw, announced);
  });
  useSlicedParser(app, parsing, { envelopesAt, placesFromBytes, busy });
}

/** The application/json parser itself: small bodies at once, larger ones in slices, a bounded number waiting. */
function useSlicedParser(
  app: FastifyInstance,
  { maxValues, maxEnvelopeValues, concurrency, queueMax, slicedQueueMax }: JsonParsing,
  { envelopesAt, placesFromBytes, busy }: { envelopesAt: Record<string, EnvelopesAt>; placesFromBytes: number; busy: () => HttpProblem },
): void {
  const { onProtoPoisoning, onConstructorPoisoning } = app.initialConfig as {
    onProtoPoisoning: PoisonAction;
    onConstructorPoisoning: PoisonAction;
  };
  const parseSmall = app.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning);
  // Tenant by tenant in turn: one tenant's queue of bodies is not another's wait.
  const slots = new FairSlots(concurrency);
  const queueFull = () =>
    new HttpProblem(
      503,
      'json-parsing-busy',
      `${concurrency} JSON bodies are being parsed and ${slicedQueueMax} wait their turn (JSON_SLICED_QUEUE): send this one again shortly.`,
      { headers: { 'retry-after': String(RETRY_AFTER_S) } },
    );
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, async (request: FastifyRequest, body: Buffer) => {
    if (body.length <= SLICED_FROM_BYTES) {
      return new Promise((resolve, reject) =>
        parseSmall(request, body.toString('utf8'), (error, value) => (error ? reject(error) : resolve(value))),
      );
    }
    // A body over placesFromBytes that took no place (a caller without a tenant: the ingestion service's) may
    // still find the queue full; so may a smaller one, which took no place (only its bytes).
    if (body.length > placesFromBytes) {
      if (slots.pendingCount >= queueMax) throw busy();
    } else if (slots.pendingCount >= slicedQueueMax) throw queueFull();
    const envelopes = envelopesAt[request.routeOptions.url ?? ''] ?? WHOLE_BODY;
    const tenant = (request as { tenantId?: string }).tenantId ?? '';
    const { value, poisonable } = await slots.run(tenant, () => parseJsonInSlices(body, { maxValues, maxEnvelopeValues, envelopes }));
    if (poisonable) applyPoisonRules(value, onProtoPoisoning, onConstructorPoisoning);
    return value;
  });
}
