// A webhook endpoint as the API shows it (never its secret): the routes answer with it (admin only) and the
// webhook_endpoint.disabled event carries it with its URL's origin alone (the feed is readable with
// transactions:read), from the row pg-store reads.
import { z } from 'zod';
import { EVENT_TYPES } from '../domain/events.js';
import type { EndpointRow } from '../pg-store/rows.js';

/** The most events a deliverer posts to one endpoint at once (maxInFlight); the migration's CHECK says the same. */
export const MAX_IN_FLIGHT = 16;

export const maxInFlightSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_IN_FLIGHT)
  .describe(
    `Events posted to the endpoint at once, 1 to ${MAX_IN_FLIGHT}. 1 (the default): one at a time, in the feed's order. ` +
      "More: up to that many at once, started in the feed's order, so they may arrive out of order, and after a failed " +
      'attempt the ones posted beside it are posted again; for receivers that de-duplicate by id and do not depend on the order.',
  );

export const endpointSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(EVENT_TYPES)),
  enabled: z.boolean(),
  createdAt: z.string(),
  /** Why delivery stopped on its own (failing for WEBHOOK_DISABLE_AFTER_HOURS), null otherwise. */
  disabledReason: z.string().nullable(),
  /** The next event's failed attempts and the last error, while it fails. */
  failingSince: z.string().nullable(),
  lastError: z.string().nullable(),
  maxInFlight: maxInFlightSchema,
});
export type EndpointView = z.infer<typeof endpointSchema>;

export const endpointView = (row: EndpointRow): EndpointView => ({
  id: row.id,
  url: row.url,
  events: row.events,
  enabled: row.enabled,
  createdAt: row.created_at.toISOString(),
  disabledReason: row.disabled_reason,
  failingSince: row.failing_since?.toISOString() ?? null,
  lastError: row.last_error,
  maxInFlight: row.max_in_flight,
});

/**
 * The endpoint as the webhook_endpoint.disabled event carries it: its URL cut to the origin (scheme, host,
 * port), so no user name, password, path or query (a token a receiver put there) reaches a reader of events.
 */
export const disabledEndpointSchema = endpointSchema.extend({
  url: z.string().describe("The endpoint URL's origin only (scheme, host, port); GET /api/v1/webhook-endpoints (admin) has the whole URL"),
});

export const originOf = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
};

export const disabledEndpointView = (row: EndpointRow): EndpointView => ({ ...endpointView(row), url: originOf(row.url) });
