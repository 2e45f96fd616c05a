// A webhook endpoint as the API shows it (never its secret): the routes answer with it (admin only) and the
// webhook_endpoint.disabled event carries it with its URL's origin alone (the feed is readable with
// transactions:read), from the row pg-store reads.
import { z } from 'zod';
import { EVENT_TYPES } from '../domain/events.js';
import type { EndpointRow } from '../pg-store/rows.js';

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
