// An endpoint that failed for WEBHOOK_DISABLE_AFTER_HOURS is disabled, and the tenant is told: a
// webhook_endpoint.disabled event (to its other endpoints and the feed: the URL's origin only), the
// deliverer's endpoint-disabled event (a warning in the logs), the metrics' gauge.
import type { Database } from '../db/postgres.js';
import { eventIdOf } from '../pg-store/insert-events.js';
import { markEndpointDisabled } from '../pg-store/mark-endpoint-disabled.js';
import { disabledEndpointView } from '../webhook-endpoints/endpoint-view.js';
import type { WebhookEvents } from './events.js';

/** Disables it unless already disabled, and records the event in the same transaction (once per failing spell). */
export async function disableEndpoint(
  { db, events }: { db: Database; events: WebhookEvents },
  endpoint: { id: string; tenant_id: string; failing_since: Date | null },
  error: string,
): Promise<void> {
  const since = endpoint.failing_since ?? new Date();
  const reason = `failing since ${since.toISOString()}: ${error.slice(0, 200)}`;
  const type = 'webhook_endpoint.disabled';
  const disabled = await markEndpointDisabled(db, endpoint.id, reason, (row) => ({
    id: eventIdOf(type, `${endpoint.id}:${since.toISOString()}`),
    tenant_id: endpoint.tenant_id,
    type,
    raw_id: endpoint.id,
    data: disabledEndpointView(row),
  }));
  if (disabled) events.emit('endpoint-disabled', { endpointId: endpoint.id, tenantId: endpoint.tenant_id, error });
}
