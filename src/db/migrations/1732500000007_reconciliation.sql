-- Up Migration
-- Reconciliation's results (docs/operations.md, "Reconciliation"): the last summary of each tenant, source and
-- UTC day with its mismatches, the history of runs, and the lease that lets one processor at a time run it.

CREATE TABLE reconciliation_days (
  tenant_id          text        NOT NULL,
  source             text        NOT NULL,
  day                date        NOT NULL,
  accepted           integer     NOT NULL,
  processed          integer     NOT NULL,
  failed             integer     NOT NULL,
  dead               integer     NOT NULL,
  waiting            integer     NOT NULL,
  oldest_waiting_at  timestamptz,
  rows_written       integer     NOT NULL,
  -- Processed documents another row accounts for: revisions, removals (voids), replaced pending rows, aliases.
  revisions          integer     NOT NULL,
  voids              integer     NOT NULL,
  replaced           integer     NOT NULL,
  aliases            integer     NOT NULL,
  -- [{ currency, direction, rowsMinor, documentsMinor }]: amounts as decimal strings (bigint sums).
  sums               jsonb       NOT NULL DEFAULT '[]'::jsonb,
  mismatches         integer     NOT NULL,
  -- The watermark: documents received, processed or failed after this time make the day due again.
  reconciled_at      timestamptz NOT NULL,
  run_id             bigint,
  -- Retention removed the day's raw documents: this is the last summary made while they existed.
  retention_removed  boolean     NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, day, source)
);
CREATE INDEX reconciliation_days_day_idx ON reconciliation_days (day DESC);

CREATE TABLE reconciliation_mismatches (
  tenant_id  text        NOT NULL,
  source     text        NOT NULL,
  day        date        NOT NULL,
  raw_id     text        NOT NULL,
  kind       text        NOT NULL,
  detail     text        NOT NULL,
  found_at   timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, day, source, kind, raw_id)
);

CREATE TABLE reconciliation_runs (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- full: every retained closed day; incremental: the days changed since the last run; range: by hand.
  mode         text        NOT NULL CHECK (mode IN ('full', 'incremental', 'range')),
  trigger      text        NOT NULL CHECK (trigger IN ('schedule', 'command')),
  worker       text        NOT NULL,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  days         integer,
  documents    integer,
  mismatches   integer,
  error        text
);
CREATE INDEX reconciliation_runs_started_idx ON reconciliation_runs (started_at DESC);

-- One row: who runs the scheduled reconciliation, until when.
CREATE TABLE reconciliation_lease (
  name    text        PRIMARY KEY,
  holder  text        NOT NULL,
  until   timestamptz NOT NULL
);

-- Reconciliation reads the rows of a range of days. On a large table, create it beforehand with
-- CREATE INDEX CONCURRENTLY (same name): this statement then does nothing and blocks no write.
CREATE INDEX IF NOT EXISTS transactions_received_idx ON transactions (received_at);

-- Down Migration
DROP INDEX transactions_received_idx;
DROP TABLE reconciliation_lease;
DROP TABLE reconciliation_runs;
DROP TABLE reconciliation_mismatches;
DROP TABLE reconciliation_days;
