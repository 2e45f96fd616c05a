// The conditions on a webhook endpoint `w` that leasing and catching up share, so both read work the same way.

/** An event the feed shows beyond the endpoint's cursor, of a type it takes (the index events_feed_idx). */
export const WAITING_SQL = `EXISTS (SELECT 1 FROM events e WHERE e.tenant_id = w.tenant_id AND e.type = ANY(w.events)
                              AND (e.txid, e.seq) > (w.cursor_txid, w.cursor_seq)
                              AND e.txid < pg_snapshot_xmin(pg_current_snapshot()))`;

/** No deliverer holds it. */
export const FREE_SQL = '(w.lease_until IS NULL OR w.lease_until < clock_timestamp())';

/** A resend asked for and not yet sent. */
export const RESENDS_WAITING_SQL = 'EXISTS (SELECT 1 FROM webhook_resends r WHERE r.endpoint_id = w.id AND r.done_at IS NULL)';
