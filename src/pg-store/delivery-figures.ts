// What /metrics says of webhook delivery, read from PostgreSQL at scrape time: each healthy endpoint's
// waiting events (counted up to a cap, so a scrape stays cheap) and the endpoints by state.
import type { Database } from '../db/postgres.js';

const COUNT_CAP = 10_000;

export interface DeliveryFigures {
  /**
   * Healthy endpoints (enabled, not failing) with events waiting, most waiting first: what the deliverers
   * have not got to. A failing endpoint waits on its receiver, and is counted under `states`.
   */
  pending: Array<{ endpointId: string; events: number; oldestAgeSeconds: number }>;
  states: Record<'healthy' | 'failing' | 'disabled_by_failure' | 'disabled', number>;
}

export async function deliveryFigures(db: Database): Promise<DeliveryFigures> {
  const [pending, states] = await Promise.all([
    db.any<{ id: string; events: number; oldest_age: number | null }>(
      `SELECT w.id, p.events, extract(epoch FROM clock_timestamp() - p.oldest)::float8 AS oldest_age
         FROM webhook_endpoints w
         CROSS JOIN LATERAL (
           SELECT count(*)::int AS events, min(x.created) AS oldest FROM (
             SELECT e.created FROM events e
              WHERE e.tenant_id = w.tenant_id AND e.type = ANY(w.events) AND (e.txid, e.seq) > (w.cursor_txid, w.cursor_seq)
                AND e.txid < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY e.txid, e.seq LIMIT ${COUNT_CAP}) x) p
        WHERE w.enabled AND w.failing_since IS NULL AND p.events > 0
        ORDER BY p.events DESC, w.id`,
    ),
    db.one<DeliveryFigures['states']>(
      `SELECT count(*) FILTER (WHERE enabled AND failing_since IS NULL)::int AS healthy,
              count(*) FILTER (WHERE enabled AND failing_since IS NOT NULL)::int AS failing,
              count(*) FILTER (WHERE NOT enabled AND disabled_reason IS NOT NULL)::int AS disabled_by_failure,
              count(*) FILTER (WHERE NOT enabled AND disabled_reason IS NULL)::int AS disabled
         FROM webhook_endpoints`,
    ),
  ]);
  return {
    pending: pending.map((p) => ({ endpointId: p.id, events: p.events, oldestAgeSeconds: Math.max(0, p.oldest_age ?? 0) })),
    states,
  };
}
