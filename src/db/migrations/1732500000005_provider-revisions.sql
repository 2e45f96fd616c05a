-- Up Migration
-- Providers send the same object again each time it changes (a Stripe charge captured, then refunded; a Plaid
-- `modified` entry; a camt entry PDNG then BOOK). A row is now one provider object: (tenant, source,
-- provider_ref) is unique, each accepted revision updates it, revision_key orders revisions so a stale one
-- never moves the row back, and transaction_revisions keeps every revision with what it changed.

-- camt.053 rows were keyed by AcctSvcrRef alone, or by NtryRef, which is unique only within one statement:
-- the key is now the account plus AcctSvcrRef, and an entry without AcctSvcrRef has no provider key.
UPDATE transactions SET provider_ref = NULL
 WHERE source = 'iso20022' AND provider_ref IS NOT NULL AND metadata->>'accountServicerRef' IS NULL;
UPDATE transactions t SET provider_ref = a.external_ref || ':' || t.provider_ref
  FROM accounts a
 WHERE a.id = t.account_id AND t.source = 'iso20022' AND t.provider_ref IS NOT NULL;

-- Rows that were one provider object (a snapshot sent again under another externalId) become one: the oldest
-- row stays, the others' raw ids (and their aliases) read it through transaction_aliases.
CREATE TEMPORARY TABLE merged ON COMMIT DROP AS
SELECT t.id AS gone, first_value(t.id) OVER w AS kept, t.raw_id, t.tenant_id
  FROM transactions t
 WHERE t.provider_ref IS NOT NULL
WINDOW w AS (PARTITION BY t.tenant_id, t.source, t.provider_ref ORDER BY t.id);
DELETE FROM merged WHERE gone = kept;
UPDATE transaction_aliases a SET transaction_id = m.kept FROM merged m WHERE a.transaction_id = m.gone;
INSERT INTO transaction_aliases (raw_id, tenant_id, transaction_id)
SELECT raw_id, tenant_id, kept FROM merged ON CONFLICT (raw_id) DO NOTHING;
DELETE FROM transactions t USING merged m WHERE t.id = m.gone;

CREATE UNIQUE INDEX transactions_tenant_source_provider_key
  ON transactions (tenant_id, source, provider_ref) WHERE provider_ref IS NOT NULL;
DROP INDEX transactions_provider_ref_idx;

-- externalId de-duplicates rows without a provider object only; a provider object's revisions may carry any
-- externalId (a webhook event id each) and still meet in one row.
DROP INDEX transactions_tenant_source_external_key;
CREATE UNIQUE INDEX transactions_tenant_source_external_key
  ON transactions (tenant_id, source, external_id) WHERE external_id IS NOT NULL AND provider_ref IS NULL;

-- Where the row's current state stands in the object's life (the mapper's revision key, compared as an array).
ALTER TABLE transactions ADD COLUMN revision_key bigint[];

CREATE TABLE transaction_revisions (
  id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  transaction_id bigint      NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
  tenant_id      text        NOT NULL,
  -- The raw document that sent this revision: replaying it is a no-op.
  raw_id         text        NOT NULL,
  revision_key   bigint[],
  -- created / updated / unchanged: applied; stale: older than the row's state; after-void: the object was
  -- removed or failed before; superseded: a posted successor replaced it; removal: the removal itself.
  outcome        text        NOT NULL CHECK (outcome IN ('created', 'updated', 'unchanged', 'stale', 'after-void',
                                                         'superseded', 'removal', 'recorded-before')),
  -- { field: { from, to } } for each field this revision changed; {} when it changed nothing.
  changes        jsonb       NOT NULL DEFAULT '{}'::jsonb,
  received_at    timestamptz,
  recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT transaction_revisions_raw_id_key UNIQUE (raw_id)
);
CREATE INDEX transaction_revisions_transaction_idx ON transaction_revisions (transaction_id, id);

-- The revisions written before this migration: each provider row's own raw document and those aliased to it.
INSERT INTO transaction_revisions (transaction_id, tenant_id, raw_id, outcome, received_at)
SELECT id, tenant_id, raw_id, 'created', received_at FROM transactions WHERE provider_ref IS NOT NULL
ON CONFLICT (raw_id) DO NOTHING;
INSERT INTO transaction_revisions (transaction_id, tenant_id, raw_id, outcome)
SELECT a.transaction_id, a.tenant_id, a.raw_id, 'recorded-before'
  FROM transaction_aliases a JOIN transactions t ON t.id = a.transaction_id
 WHERE t.provider_ref IS NOT NULL
ON CONFLICT (raw_id) DO NOTHING;

-- Down Migration
DROP TABLE transaction_revisions;
ALTER TABLE transactions DROP COLUMN revision_key;
DROP INDEX transactions_tenant_source_external_key;
CREATE UNIQUE INDEX transactions_tenant_source_external_key
  ON transactions (tenant_id, source, external_id) WHERE external_id IS NOT NULL;
DROP INDEX transactions_tenant_source_provider_key;
CREATE INDEX transactions_provider_ref_idx ON transactions (tenant_id, source, provider_ref) WHERE provider_ref IS NOT NULL;
