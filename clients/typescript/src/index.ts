// @prismo/client: the Prismo Cloud API for TypeScript and JavaScript, its types generated from the API's
// OpenAPI document. No runtime dependencies: the platform's fetch and Web Crypto.
import { eventsResource } from './events.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { statementsResource } from './statements.js';
import { transactionsResource } from './transactions.js';
import { createTransport } from './transport.js';
import { webhookEndpointsResource } from './webhook-endpoints.js';

export interface ClientOptions {
  /** The API's origin, e.g. https://api.example.com (paths are /api/v1/…). */
  baseUrl: string;
  /** An API key: sent as a Bearer token. */
  apiKey: string;
  /** Another fetch (a proxy agent, instrumentation); the platform's by default. */
  fetch?: typeof fetch;
  /** Retries after the first attempt of a safe request on 429, 503 or a lost connection (default 3, at most 10). */
  retries?: number;
  /** The rest of the retry policy: backoff base and ceiling, the cap on Retry-After. */
  retry?: Partial<Omit<RetryPolicy, 'retries'>>;
  /** Each attempt's limit (default 30 s). */
  timeoutMs?: number;
}

/** More retries than this are refused: a client that retries forever only adds to an outage. */
export const MAX_RETRIES = 10;

export function createClient(options: ClientOptions) {
  const retries = options.retries ?? DEFAULT_RETRY.retries;
  if (!Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES)
    throw new RangeError(`retries must be an integer from 0 to ${MAX_RETRIES}`);
  const send = createTransport({
    baseUrl: options.baseUrl,
    apiKey: options.apiKey,
    fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    retry: { ...DEFAULT_RETRY, ...options.retry, retries },
    timeoutMs: options.timeoutMs ?? 30_000,
  });
  return {
    transactions: transactionsResource(send),
    statements: statementsResource(send),
    events: eventsResource(send),
    webhookEndpoints: webhookEndpointsResource(send),
  };
}

export type PrismoClient = ReturnType<typeof createClient>;
export { type FieldError, PrismoError, type Problem } from './errors.js';
export type { EventFilters, FollowOptions } from './events.js';
export type { components, paths, webhooks as webhookContracts } from './openapi.js';
export type { ListOptions } from './pages.js';
export type { RetryPolicy } from './retry.js';
export type { StatementSource } from './statements.js';
export type { WriteOptions } from './transactions.js';
export type { CallOptions } from './transport.js';
export type * from './types.js';
export {
  SIGNATURE_HEADER,
  type VerifyOptions,
  verify,
  WEBHOOK_EVENT_TYPES,
  type WebhookEvent,
  type WebhookEventData,
  type WebhookEventType,
  WebhookVerificationError,
  type WebhookVerificationReason,
  webhooks,
} from './webhooks.js';
