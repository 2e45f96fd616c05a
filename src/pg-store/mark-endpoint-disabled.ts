// An endpoint disabled for failing too long, and its webhook_endpoint.disabled event, in one transaction: the
// event is recorded once per failing spell, by the one deliverer whose update disabled it.
import type { Database } from '../db/postgres.js';
import { type EventRecord, insertEvents } from './insert-events.js';
import { ENDPOINT_COLUMNS, type EndpointRow } from './rows.js';

/** Disables it unless already disabled, recording the event `eventOf` makes of its row; false when it was already. */
export async function markEndpointDisabled(
  db: Database,
  endpointId: string,
  reason: string,
  eventOf: (row: EndpointRow) => EventRecord,
): Promise<boolean> {
  return db.tx(async (t) => {
    const row = await t.oneOrNone<EndpointRow>(
      `UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2 WHERE id = $1 AND enabled RETURNING ${ENDPOINT_COLUMNS}`,
      [endpointId, reason],
    );
    if (!row) return false;
    await insertEvents(t, [eventOf(row)]);
    return true;
  });
}
