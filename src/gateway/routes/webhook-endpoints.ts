// /api/v1/webhook-endpoints: where the tenant's events are pushed (admin scope). The signing secret is shown
// once, at creation and at rotation; a URL that reaches a private address or carries credentials is refused
// (webhook-endpoints/address-guard), and a tenant has at most WEBHOOK_MAX_ENDPOINTS endpoints.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/postgres.js';
import { readClassified } from '../../db/postgres-errors.js';
import { EVENT_TYPES } from '../../domain/events.js';
import { HttpProblem } from '../../http/problem.js';
import { createEndpoint } from '../../pg-store/create-endpoint.js';
import { deleteEndpoint } from '../../pg-store/delete-endpoint.js';
import { findEndpoint } from '../../pg-store/find-endpoint.js';
import { listDeliveries } from '../../pg-store/list-deliveries.js';
import { listEndpoints } from '../../pg-store/list-endpoints.js';
import { requestResend } from '../../pg-store/request-resend.js';
import type { EndpointRow } from '../../pg-store/rows.js';
import { updateEndpoint } from '../../pg-store/update-endpoint.js';
import { checkedAddresses, credentialsOf, RefusedAddressError, type Resolve } from '../../webhook-endpoints/address-guard.js';
import { endpointSchema, maxInFlightSchema, endpointView as view } from '../../webhook-endpoints/endpoint-view.js';
import { newSecret } from '../../webhook-endpoints/signature.js';
import { idempotencyHeaders } from '../plugins/idempotency.js';
import { ROUTE_PROBLEMS } from '../problem-cases.js';

/** After a rotation the previous secret still signs for this long, so receivers can switch without a gap. */
export const ROTATION_OVERLAP_HOURS = 24;

const endpointIdSchema = z.string().regex(/^we_[0-9a-f]{24}$/, 'must be a webhook endpoint id (we_ and 24 hex digits)');
const urlSchema = z
  .string()
  .max(2048)
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http or https URL');
const eventsSchema = z.array(z.enum(EVENT_TYPES)).min(1).max(EVENT_TYPES.length);

export interface WebhookRouteOptions {
  db: Database;
  allowPrivateUrls: boolean;
  allowedHosts?: readonly string[];
  resolve: Resolve;
  /** WEBHOOK_MAX_ENDPOINTS: a tenant's endpoints, enabled or not; one more is a 422. */
  maxEndpointsPerTenant: number;
}

type App = Parameters<FastifyPluginAsyncZod>[0];

/** What every route here uses: the database, the URL check, the tenant's endpoint or a 404. */
interface Helpers {
  db: Database;
  maxEndpoints: number;
  checkUrl(url: string): Promise<void>;
  find(tenantId: string, id: string): Promise<EndpointRow>;
}

export const webhookEndpointRoutes: FastifyPluginAsyncZod<WebhookRouteOptions> = async (app, options) => {
  const { db } = options;
  const checkUrl = async (url: string) => {
    if (credentialsOf(new URL(url))) {
      const detail = 'The URL must not carry a user name or password: the receiver can check the Prismo-Signature header instead.';
      throw new HttpProblem(422, 'webhook-url-refused', detail, { errors: [{ path: 'body.url', message: detail }] });
    }
    try {
      await checkedAddresses(new URL(url).hostname, {
        allowPrivate: options.allowPrivateUrls,
        allowedHosts: options.allowedHosts,
        resolve: options.resolve,
      });
    } catch (error) {
      const host = new URL(url).hostname;
      // A name that does not exist is the client's to fix; a resolver that cannot answer now is ours (503).
      const code = (error as NodeJS.ErrnoException).code;
      if (!(error instanceof RefusedAddressError) && code !== 'ENOTFOUND' && code !== 'ENODATA')
        throw new HttpProblem(503, 'unavailable', `Cannot look up ${host} now (${code ?? 'no answer'}); retry.`, {
          headers: { 'Retry-After': '5' },
        });
      const detail = error instanceof RefusedAddressError ? error.message : `${host} does not resolve`;
      throw new HttpProblem(422, 'webhook-url-refused', detail, { errors: [{ path: 'body.url', message: detail }] });
    }
  };
  const find = async (tenantId: string, id: string) => {
    const row = await readClassified(() => findEndpoint(db, tenantId, id));
    if (!row) throw new HttpProblem(404, 'not-found', `No webhook endpoint ${id}.`);
    return row;
  };
  const helpers = { db, maxEndpoints: options.maxEndpointsPerTenant, checkUrl, find };
  createRoute(app, helpers);
  listRoute(app, helpers);
  readRoute(app, helpers);
  updateRoute(app, helpers);
  deleteRoute(app, helpers);
  deliveriesRoute(app, helpers);
  resendRoute(app, helpers);
};

/** What can be done with the endpoint a response names (by its `id`, or its `endpointId`). */
const endpointLinks = (pointer: string) =>
  Object.fromEntries(
    ['getWebhookEndpoint', 'updateWebhookEndpoint', 'deleteWebhookEndpoint', 'listWebhookDeliveries', 'createWebhookResend'].map(
      (operationId) => [operationId, { operationId, parameters: { id: `$response.body#${pointer}` } }],
    ),
  );

/** POST: a new endpoint, its secret in the answer only. */
function createRoute(app: App, { db, maxEndpoints, checkUrl }: Helpers): void {
  app.post(
    '/api/v1/webhook-endpoints',
    {
      onRequest: app.authorize('admin'),
      links: { 201: endpointLinks('/id') },
      schema: {
        operationId: 'createWebhookEndpoint',
        'x-problems': ROUTE_PROBLEMS.createEndpoint,
        headers: idempotencyHeaders,
        summary: `Creates a webhook endpoint (at most ${maxEndpoints} per tenant); the answer carries its signing secret, shown this once`,
        body: z.strictObject({
          url: urlSchema,
          events: eventsSchema,
          enabled: z.boolean().default(true),
          maxInFlight: maxInFlightSchema.default(1),
        }),
        response: { 201: endpointSchema.extend({ secret: z.string() }) },
      },
    },
    async (request, reply) => {
      await checkUrl(request.body.url);
      const secret = newSecret();
      const row = await readClassified(() => createEndpoint(db, { tenantId: request.tenantId, ...request.body, secret }, maxEndpoints));
      if (!row)
        // 422, not 409: the contract's 409 on this route is an Idempotency-Key in flight, which a retry settles.
        throw new HttpProblem(
          422,
          'webhook-endpoint-limit',
          `A tenant has at most ${maxEndpoints} webhook endpoints (WEBHOOK_MAX_ENDPOINTS): delete one first.`,
        );
      return reply.code(201).send({ ...view(row), secret });
    },
  );
}

/** GET: the tenant's endpoints, all of them (at most WEBHOOK_MAX_ENDPOINTS): one page, as every list is shaped. */
function listRoute(app: App, { db }: Helpers): void {
  app.get(
    '/api/v1/webhook-endpoints',
    {
      onRequest: app.authorize('admin'),
      links: { 200: endpointLinks('/data/0/id') },
      schema: {
        operationId: 'listWebhookEndpoints',
        'x-problems': ROUTE_PROBLEMS.list,
        summary: "The tenant's webhook endpoints (never their secrets): all of them, so has_more is false",
        response: { 200: z.object({ data: z.array(endpointSchema), has_more: z.boolean(), next_starting_after: z.string().nullable() }) },
      },
    },
    async (request) => ({
      data: (await readClassified(() => listEndpoints(db, request.tenantId))).map(view),
      has_more: false,
      next_starting_after: null,
    }),
  );
}

/** GET by id: one endpoint (never its secret). */
function readRoute(app: App, { find }: Helpers): void {
  app.get(
    '/api/v1/webhook-endpoints/:id',
    {
      onRequest: app.authorize('admin'),
      schema: {
        operationId: 'getWebhookEndpoint',
        'x-problems': ROUTE_PROBLEMS.readById,
        summary: 'One webhook endpoint (never its secret)',
        params: z.object({ id: endpointIdSchema }),
        response: { 200: endpointSchema },
      },
    },
    async (request) => view(await find(request.tenantId, request.params.id)),
  );
}

/** PATCH: url, events, enabled, maxInFlight, a new secret. */
function updateRoute(app: App, { db, checkUrl, find }: Helpers): void {
  app.patch(
    '/api/v1/webhook-endpoints/:id',
    {
      onRequest: app.authorize('admin'),
      schema: {
        operationId: 'updateWebhookEndpoint',
        'x-problems': ROUTE_PROBLEMS.updateEndpoint,
        summary: `Changes an endpoint's URL, events, state or events in flight; rotateSecret: a new secret (returned once), the old one valid ${ROTATION_OVERLAP_HOURS} h more`,
        params: z.object({ id: endpointIdSchema }),
        body: z.strictObject({
          url: urlSchema.optional(),
          events: eventsSchema.optional(),
          enabled: z.boolean().optional(),
          maxInFlight: maxInFlightSchema.optional(),
          rotateSecret: z.boolean().optional(),
        }),
        response: { 200: endpointSchema.extend({ secret: z.string().optional() }) },
      },
    },
    async (request) => {
      const { url, events, enabled, maxInFlight, rotateSecret } = request.body;
      await find(request.tenantId, request.params.id);
      if (url) await checkUrl(url);
      const secret = rotateSecret ? newSecret() : null;
      // Enabling again clears a disable and the failure state, and retries at once.
      const row = await readClassified(() =>
        updateEndpoint(db, request.tenantId, request.params.id, {
          url,
          events,
          enabled,
          maxInFlight,
          secret,
          overlapHours: ROTATION_OVERLAP_HOURS,
        }),
      );
      return { ...view(row), ...(secret ? { secret } : {}) };
    },
  );
}

/** DELETE: the endpoint and its delivery history. */
function deleteRoute(app: App, { db, find }: Helpers): void {
  app.delete(
    '/api/v1/webhook-endpoints/:id',
    {
      onRequest: app.authorize('admin'),
      schema: {
        operationId: 'deleteWebhookEndpoint',
        'x-problems': ROUTE_PROBLEMS.deleteEndpoint,
        summary: 'Deletes an endpoint (and its delivery history)',
        params: z.object({ id: endpointIdSchema }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await find(request.tenantId, request.params.id);
      await readClassified(() => deleteEndpoint(db, request.tenantId, request.params.id));
      return reply.code(204).send(null);
    },
  );
}

const deliverySchema = z.object({
  id: z.string(),
  eventId: z.string(),
  /** Null once the event is past EVENTS_RETENTION_DAYS. */
  eventType: z.enum(EVENT_TYPES).nullable(),
  /** The event's attempt number at this endpoint (1 for a resend). */
  attempt: z.number().int(),
  /** The receiver's HTTP status; null when there was no answer (refused, timed out: see error). */
  status: z.number().int().nullable(),
  error: z.string().nullable(),
  durationMs: z.number().int(),
  /** From the event's recording to this 2xx; null for a failed attempt. */
  delayMs: z.number().int().nullable(),
  /** Asked for by an admin (POST …/resends). */
  resend: z.boolean(),
  at: z.string(),
});

/** GET …/deliveries: the endpoint's attempts, newest first, kept EVENTS_RETENTION_DAYS. */
function deliveriesRoute(app: App, { db, find }: Helpers): void {
  app.get(
    '/api/v1/webhook-endpoints/:id/deliveries',
    {
      onRequest: app.authorize('admin'),
      schema: {
        operationId: 'listWebhookDeliveries',
        'x-problems': ROUTE_PROBLEMS.readById,
        summary: "An endpoint's delivery attempts, newest first (page with starting_after: next_starting_after)",
        params: z.object({ id: endpointIdSchema }),
        querystring: z.strictObject({
          limit: z.coerce.number().int().min(1).max(100).default(25),
          starting_after: z
            .string()
            .regex(/^[1-9][0-9]{0,17}$/, 'must be a delivery id')
            .optional(),
        }),
        response: {
          200: z.object({
            data: z.array(deliverySchema),
            has_more: z.boolean(),
            next_starting_after: z.string().nullable(),
            /** Before has_more: kept for clients written against it, to be removed in /api/v2. */
            hasMore: z.boolean().meta({ deprecated: true, description: 'Deprecated: read has_more' }),
          }),
        },
      },
    },
    async (request) => {
      await find(request.tenantId, request.params.id);
      const { limit, starting_after: after } = request.query;
      const rows = await readClassified(() => listDeliveries(db, request.params.id, after ?? null, limit + 1));
      const data = rows.slice(0, limit).map((row) => ({
        id: row.id,
        eventId: row.event_id,
        eventType: row.event_type,
        attempt: row.attempt,
        status: row.status,
        error: row.error,
        durationMs: row.duration_ms,
        delayMs: row.delay_ms,
        resend: row.resend,
        at: row.at.toISOString(),
      }));
      const hasMore = rows.length > limit;
      return { data, has_more: hasMore, next_starting_after: hasMore ? data.at(-1)!.id : null, hasMore };
    },
  );
}

/** POST …/resends: one event sent again at the endpoint's next turn, whatever its cursor. */
function resendRoute(app: App, { db, find }: Helpers): void {
  app.post(
    '/api/v1/webhook-endpoints/:id/resends',
    {
      onRequest: app.authorize('admin'),
      links: {
        202: { listWebhookDeliveries: { operationId: 'listWebhookDeliveries', parameters: { id: '$response.body#/endpointId' } } },
      },
      schema: {
        operationId: 'createWebhookResend',
        'x-problems': ROUTE_PROBLEMS.resend,
        headers: idempotencyHeaders,
        summary: 'Sends one event to the endpoint again (once, at its next turn; the attempt appears in its deliveries)',
        params: z.object({ id: endpointIdSchema }),
        body: z.strictObject({ eventId: z.string().regex(/^evt_[0-9a-f]{24}$/, 'must be an event id (evt_ and 24 hex digits)') }),
        response: { 202: z.object({ id: z.string(), endpointId: z.string(), eventId: z.string(), requestedAt: z.string() }) },
      },
    },
    async (request, reply) => {
      const endpoint = await find(request.tenantId, request.params.id);
      if (!endpoint.enabled)
        throw new HttpProblem(
          409,
          'endpoint-disabled',
          `Webhook endpoint ${endpoint.id} is disabled: enable it (PATCH enabled: true) first.`,
        );
      const { eventId } = request.body;
      const resend = await readClassified(() => requestResend(db, request.tenantId, endpoint.id, eventId));
      if (!resend)
        throw new HttpProblem(404, 'not-found', `No event ${eventId}.`, {
          errors: [{ path: 'body.eventId', message: 'no such event of this tenant (or older than the events kept)' }],
        });
      return reply.code(202).send({ id: resend.id, endpointId: endpoint.id, eventId, requestedAt: resend.requested_at.toISOString() });
    },
  );
}
