-- Up Migration
-- De-duplication on (tenant, source, externalId) used to live only in MongoDB's dedupKey index, which forgets
-- a key once retention removes its raw document. PostgreSQL now keeps it for good: one row per external id,
-- and a later raw document carrying an external id already written becomes an alias of that row, so reads
-- by its raw id find the original transaction instead of a second row.

CREATE UNIQUE INDEX transactions_tenant_source_external_key
  ON transactions (tenant_id, source, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE transaction_aliases (
  raw_id         text        PRIMARY KEY,
  tenant_id      text        NOT NULL,
  transaction_id bigint      NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX transaction_aliases_transaction_idx ON transaction_aliases (transaction_id);

-- Down Migration
DROP TABLE transaction_aliases;
DROP INDEX transactions_tenant_source_external_key;
