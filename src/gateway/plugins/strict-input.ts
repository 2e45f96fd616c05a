// Refused at the door with a 400 naming the path (docs/api.md), or 415 for a body that is not JSON.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Envelope } from '../../domain/envelope.js';
import { findNulInParameters, findUnsafeJson, type Refusal, refuseMoney } from '../../domain/refusals.js';
import { detailOf, HttpProblem } from '../../http/problem.js';

export const BATCH_ROUTE = '/api/v1/transactions/batch';
const SINGLE_ROUTE = '/api/v1/transactions';

const isEnvelopeLike = (body: unknown): body is Envelope =>
  body !== null &&
  typeof body === 'object' &&
  typeof (body as { source?: unknown }).source === 'string' &&
  typeof (body as { payload?: unknown }).payload === 'object' &&
  (body as { payload?: unknown }).payload !== null;

const refusalProblem = (refusal: Refusal) => new HttpProblem(400, 'validation-error', detailOf([refusal]), { errors: [refusal] });

function bodyRefusal(request: FastifyRequest): Refusal | undefined {
  const body = request.body;
  if (request.routeOptions.url === BATCH_ROUTE && body !== null && typeof body === 'object' && !Array.isArray(body)) {
    // The container only: each item is checked by the route.
    return findUnsafeJson({ ...(body as Record<string, unknown>), items: [] });
  }
  const unsafe = findUnsafeJson(body);
  // Money no mapper could hold, before the Idempotency-Key is taken, like every other refusal here.
  if (unsafe || request.method !== 'POST' || request.routeOptions.url !== SINGLE_ROUTE || !isEnvelopeLike(body)) return unsafe;
  return refuseMoney(body);
}

/**
 * Bodies holding `__proto__` or `constructor.prototype` keys, NUL characters anywhere (keys, strings, query
 * and path parameters), nesting beyond reason, or money no mapper could hold. The batch route checks each item
 * on its own, so one bad item is refused in its 207 result instead of failing the batch.
 */
export const strictInputPlugin = fp(
  async (app: FastifyInstance) => {
    // JSON only: without its parser, text/plain is refused with 415 like every other non-JSON type.
    app.removeContentTypeParser('text/plain');
    app.addHook('preValidation', async (request) => {
      const refusal =
        findNulInParameters(request.query as Record<string, unknown>, 'querystring') ??
        findNulInParameters(request.params as Record<string, unknown>, 'params') ??
        bodyRefusal(request);
      if (refusal) throw refusalProblem(refusal);
    });
  },
  { name: 'strict-input', dependencies: ['problem'] },
);
