// Reading the events table in the feed's order, for GET /api/v1/events and for webhook delivery: an event
// shows once every transaction older than its own has ended, and a plain row's event reads the row.

import type { Database } from '../db/postgres.js';
import { readClassified } from '../db/postgres-errors.js';
import type { EventType } from '../domain/events.js';
import type { TransactionViewRow as Row } from './rows.js';
import { ROW_COLUMNS, toView } from './transaction-view.js';

/** A place in the feed: after this event. */
export interface FeedCursor {
  txid: string;
  seq: string;
}

export interface FeedEvent {
  id: string;
  type: EventType;
  created: string;
  /** The raw document (or upload) whose processing recorded it. */
  documentId: string;
  data: unknown;
  cursor: FeedCursor;
}

export interface FeedFilter {
  tenantId: string;
  types?: readonly string[];
  from?: Date;
  to?: Date;
  after?: FeedCursor;
  /** These events only (a resend), wherever they stand. */
  ids?: readonly string[];
  limit: number;
}

type EventRow = Partial<Row> & {
  event_id: string;
  document_id: string;
  event_type: EventType;
  event_created: Date;
  event_data: unknown;
  txid: string;
  seq: string;
};

const EVENTS_SQL = (conditions: string[]) => `
  SELECT e.id AS event_id, e.raw_id AS document_id, e.type AS event_type, e.created AS event_created, e.data AS event_data,
         e.txid::text AS txid, e.seq::text AS seq, ${ROW_COLUMNS}
    FROM events e
    LEFT JOIN transactions t ON e.data IS NULL AND t.raw_id = e.raw_id
    LEFT JOIN accounts a ON a.id = t.account_id
    LEFT JOIN counterparties c ON c.id = t.counterparty_id
   WHERE (e.data IS NOT NULL OR t.id IS NOT NULL) AND ${conditions.join(' AND ')}
   ORDER BY e.txid, e.seq LIMIT $7`;

/** Up to `limit` events after the cursor, oldest first. */
export async function readEvents(db: Database, filter: FeedFilter): Promise<FeedEvent[]> {
  // Visible: recorded by a transaction older than every one still running.
  const conditions = [
    'e.tenant_id = $1',
    'e.txid < pg_snapshot_xmin(pg_current_snapshot())',
    '($2::xid8 IS NULL OR (e.txid, e.seq) > ($2::xid8, $3::bigint))',
    '($4::text[] IS NULL OR e.type = ANY($4::text[]))',
    '($5::timestamptz IS NULL OR e.created >= $5)',
    '($6::timestamptz IS NULL OR e.created < $6)',
    '($8::text[] IS NULL OR e.id = ANY($8::text[]))',
  ];
  const rows = await readClassified(() =>
    db.any<EventRow>(EVENTS_SQL(conditions), [
      filter.tenantId,
      filter.after?.txid ?? null,
      filter.after?.seq ?? null,
      filter.types ?? null,
      filter.from ?? null,
      filter.to ?? null,
      filter.limit,
      filter.ids ?? null,
    ]),
  );
  return rows.map((row) => ({
    id: row.event_id,
    type: row.event_type,
    created: row.event_created.toISOString(),
    documentId: row.document_id,
    data: row.event_data ?? { ...toView(row as Row), revisions: [] },
    cursor: { txid: row.txid, seq: row.seq },
  }));
}
