// The webhook endpoints resource (an admin key's): where events are sent, their secrets, and their deliveries.
import { type ListOptions, type Page, paginate } from './pages.js';
import type { WriteOptions } from './transactions.js';
import type { CallOptions, Send } from './transport.js';
import type {
  CreatedWebhookEndpoint,
  Delivery,
  NewWebhookEndpoint,
  Resend,
  UpdatedWebhookEndpoint,
  WebhookEndpoint,
  WebhookEndpointChanges,
} from './types.js';

export function webhookEndpointsResource(send: Send) {
  const at = (id: string) => `api/v1/webhook-endpoints/${encodeURIComponent(id)}`;
  return {
    /** POST: the new endpoint with its signing secret, which is shown this once. */
    create(
      endpoint: NewWebhookEndpoint,
      { idempotencyKey = crypto.randomUUID(), ...call }: WriteOptions = {},
    ): Promise<CreatedWebhookEndpoint> {
      return send({ method: 'POST', path: 'api/v1/webhook-endpoints', body: endpoint, idempotencyKey, ...call });
    },
    /** GET: the tenant's endpoints (never their secrets). */
    async list(call: CallOptions = {}): Promise<WebhookEndpoint[]> {
      return (await send<{ data: WebhookEndpoint[] }>({ method: 'GET', path: 'api/v1/webhook-endpoints', ...call })).data;
    },
    /** GET by id: one endpoint (never its secret). */
    get(id: string, call: CallOptions = {}): Promise<WebhookEndpoint> {
      return send({ method: 'GET', path: at(id), ...call });
    },
    /** PATCH: its URL, events, state or maxInFlight (enabling again clears a disable). Not retried: PATCH takes no Idempotency-Key. */
    update(id: string, changes: WebhookEndpointChanges, call: CallOptions = {}): Promise<UpdatedWebhookEndpoint> {
      return send({ method: 'PATCH', path: at(id), body: changes, ...call });
    },
    /** DELETE: the endpoint and its delivery history. */
    async delete(id: string, call: CallOptions = {}): Promise<void> {
      await send({ method: 'DELETE', path: at(id), ...call });
    },
    /** PATCH rotateSecret: a new secret (returned once); the old one keeps signing for the overlap the API states. */
    async rotateSecret(id: string, call: CallOptions = {}): Promise<UpdatedWebhookEndpoint & { secret: string }> {
      return send({ method: 'PATCH', path: at(id), body: { rotateSecret: true }, ...call });
    },
    /** GET …/deliveries, every page: the endpoint's attempts, newest first. */
    deliveries(id: string, { pageSize, ...call }: ListOptions = {}): AsyncGenerator<Delivery, void, undefined> {
      return paginate((after) =>
        send<Page<Delivery>>({
          method: 'GET',
          path: `${at(id)}/deliveries`,
          query: { limit: pageSize, starting_after: after },
          ...call,
        }),
      );
    },
    /** POST …/resends: the event sent to the endpoint again at its next turn. */
    resend(id: string, eventId: string, { idempotencyKey = crypto.randomUUID(), ...call }: WriteOptions = {}): Promise<Resend> {
      return send({ method: 'POST', path: `${at(id)}/resends`, body: { eventId }, idempotencyKey, ...call });
    },
  };
}
