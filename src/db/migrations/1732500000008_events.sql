-- Up Migration
-- Events (docs/api.md, "Events"): what happened to a tenant's transactions, recorded in the same transaction as
-- the rows they describe (an outbox), so none is recorded for a batch that rolled back and none is lost when
-- a process dies after the commit. GET /api/v1/events reads them in (txid, seq) order.

CREATE TABLE events (
  seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- evt_ + sha256(type:key), 24 hex digits (key: the raw id, or a failure's log entry id): recording the same
  -- event again (a batch replayed) is a no-op.
  id         text        NOT NULL UNIQUE,
  tenant_id  text        NOT NULL,
  type       text        NOT NULL CHECK (type IN ('transaction.processed', 'transaction.updated', 'transaction.voided',
                                                  'transaction.failed', 'transaction.dead', 'statement.processed')),
  created    timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- The transaction that recorded it. Transactions commit in any order, so seq alone would let a reader page
  -- past an event committed later with a smaller seq: the feed shows an event once every transaction older
  -- than its own has ended (txid below the snapshot's xmin), in (txid, seq) order, which then never changes.
  txid       xid8        NOT NULL DEFAULT pg_current_xact_id(),
  raw_id     text        NOT NULL,
  -- What the event says (the transaction, or the document's status), as it was when recorded. NULL for a
  -- plain row's transaction.processed: plain rows never change once written, so the feed reads it from the
  -- row (transactions.raw_id = raw_id) and recording costs no copy.
  data       jsonb
);
CREATE INDEX events_feed_idx ON events (tenant_id, txid, seq);
CREATE INDEX events_created_idx ON events (created);

-- Down Migration
DROP TABLE events;
