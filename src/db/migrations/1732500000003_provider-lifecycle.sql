-- Up Migration
-- Providers revise what they sent: Plaid replaces a pending transaction by its posted one (which names it in
-- pending_transaction_id) and removes transactions in /transactions/sync. provider_ref is the provider's own
-- id for a row; supersedes names the provider_ref of the row a posted one replaces, and superseded_raw_id
-- keeps the replaced row's raw id so reads by that id still find the transaction. A removal is recorded in
-- transaction_removals by itself, so it voids its row whichever of the two is written first.

ALTER TABLE transactions
  ADD COLUMN provider_ref      text,
  ADD COLUMN supersedes        text,
  ADD COLUMN superseded_raw_id text;

ALTER TABLE transactions DROP CONSTRAINT transactions_status_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_status_check CHECK (status IN ('pending', 'posted', 'reversed', 'void'));

CREATE INDEX transactions_provider_ref_idx ON transactions (tenant_id, source, provider_ref) WHERE provider_ref IS NOT NULL;
CREATE INDEX transactions_supersedes_idx ON transactions (tenant_id, source, supersedes) WHERE supersedes IS NOT NULL;
CREATE INDEX transactions_superseded_raw_idx ON transactions (tenant_id, superseded_raw_id) WHERE superseded_raw_id IS NOT NULL;

CREATE TABLE transaction_removals (
  tenant_id    text        NOT NULL,
  source       text        NOT NULL,
  provider_ref text        NOT NULL,
  -- The raw document that said so; replaying it is a no-op.
  raw_id       text        NOT NULL UNIQUE,
  removed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (tenant_id, source, provider_ref)
);

-- Down Migration
DROP TABLE transaction_removals;
DROP INDEX transactions_superseded_raw_idx;
DROP INDEX transactions_supersedes_idx;
DROP INDEX transactions_provider_ref_idx;
ALTER TABLE transactions DROP CONSTRAINT transactions_status_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_status_check CHECK (status IN ('pending', 'posted', 'reversed'));
ALTER TABLE transactions DROP COLUMN superseded_raw_id, DROP COLUMN supersedes, DROP COLUMN provider_ref;
