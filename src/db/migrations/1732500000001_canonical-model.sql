-- Up Migration
-- The canonical model a finance team signs off: who the money went to or came from (counterparties,
-- per tenant by normalised name), the lifecycle status, a category, and when the bank booked it.

CREATE TABLE counterparties (
  id                     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id              text        NOT NULL,
  -- Lower-case, NFKC, punctuation removed, single spaces: "ACME, Inc." and "Acme Inc" are one counterparty.
  name_normalized        text        NOT NULL CHECK (name_normalized <> ''),
  display_name           text        NOT NULL,
  merchant_category_code char(4)     CHECK (merchant_category_code ~ '^[0-9]{4}$'),
  created_at             timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT counterparties_tenant_name_key UNIQUE (tenant_id, name_normalized)
);

ALTER TABLE transactions
  ADD COLUMN counterparty_id bigint REFERENCES counterparties (id),
  ADD COLUMN status          text NOT NULL DEFAULT 'posted' CHECK (status IN ('pending', 'posted', 'reversed')),
  ADD COLUMN category        text,
  ADD COLUMN booked_at       timestamptz;

-- The list API's filters: by tenant and status or currency over time, by counterparty, by external id.
CREATE INDEX transactions_tenant_status_idx ON transactions (tenant_id, status, occurred_at DESC, id DESC);
CREATE INDEX transactions_tenant_currency_idx ON transactions (tenant_id, currency, occurred_at DESC);
CREATE INDEX transactions_counterparty_idx ON transactions (counterparty_id, occurred_at DESC) WHERE counterparty_id IS NOT NULL;
CREATE INDEX transactions_tenant_external_idx ON transactions (tenant_id, source, external_id) WHERE external_id IS NOT NULL;

-- Down Migration
DROP INDEX transactions_tenant_external_idx;
DROP INDEX transactions_counterparty_idx;
DROP INDEX transactions_tenant_currency_idx;
DROP INDEX transactions_tenant_status_idx;
ALTER TABLE transactions DROP COLUMN booked_at, DROP COLUMN category, DROP COLUMN status, DROP COLUMN counterparty_id;
DROP TABLE counterparties;
