// A webhook endpoint as the API shows it (never its secret): the routes answer with it and the
// webhook_endpoint.disabled event carries it; and the row of one delivery attempt, written and listed.
import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../domain/events.js';

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

export interface EndpointRow {
  id: string;
  url: string;
  events: EventType[];
  enabled: boolean;
  created_at: Date;
  disabled_reason: string | null;
  failing_since: Date | null;
  last_error: string | null;
}

export const ENDPOINT_COLUMNS = 'id, url, events, enabled, created_at, disabled_reason, failing_since, last_error';

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

/** One delivery attempt as webhook_deliveries holds it (besides its id, endpoint and time). */
export interface AttemptRow {
  event_id: string;
  /** The event's attempt number at this endpoint (1 for a resend). */
  attempt: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
  delay_ms: number | null;
  resend: boolean;
}
