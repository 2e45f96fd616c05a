// A new webhook endpoint, within the tenant's limit: a tenant's creations take turns, so that two at once
// cannot both pass the count.
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/postgres.js';
import { ENDPOINT_COLUMNS, type EndpointRow } from './rows.js';

export interface NewEndpoint {
  tenantId: string;
  url: string;
  events: string[];
  enabled: boolean;
  secret: string;
  /** Events posted to it at once (1: one at a time, in the feed's order). */
  maxInFlight: number;
}

/** Creates it unless the tenant already has `maxEndpoints` (then null); its cursor starts at the feed's horizon. */
export async function createEndpoint(db: Database, endpoint: NewEndpoint, maxEndpoints: number): Promise<EndpointRow | null> {
  return db.tx(async (t) => {
    // Creations of one tenant in turn, so that two at once cannot both pass the count.
    await t.any("SELECT pg_advisory_xact_lock(hashtextextended('webhook-endpoints:' || $1::text, 0))", [endpoint.tenantId]);
    const count = await t.one('SELECT count(*)::int AS n FROM webhook_endpoints WHERE tenant_id = $1', [endpoint.tenantId], (r) => r.n);
    if (count >= maxEndpoints) return null;
    // The cursor starts at the feed's horizon: the endpoint receives the events recorded from now on.
    return t.one<EndpointRow>(
      `INSERT INTO webhook_endpoints (id, tenant_id, url, events, enabled, secret, max_in_flight, cursor_txid)
       VALUES ($1, $2, $3, $4::text[], $5, $6, $7, pg_snapshot_xmin(pg_current_snapshot())) RETURNING ${ENDPOINT_COLUMNS}`,
      [
        `we_${randomBytes(12).toString('hex')}`,
        endpoint.tenantId,
        endpoint.url,
        endpoint.events,
        endpoint.enabled,
        endpoint.secret,
        endpoint.maxInFlight,
      ],
    );
  });
}
