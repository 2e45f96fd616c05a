-- Up Migration
-- The structured side of the pipeline. Money is integer minor units (bigint) plus an ISO 4217 code;
-- raw_id (the MongoDB raw document id) is unique, which makes every replay a no-op.

CREATE TABLE accounts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    text        NOT NULL,
  external_ref text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT accounts_tenant_ref_key UNIQUE (tenant_id, external_ref)
);

CREATE TABLE transactions (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id    text        NOT NULL,
  raw_id       text        NOT NULL,
  source       text        NOT NULL,
  external_id  text,
  account_id   bigint      NOT NULL REFERENCES accounts (id),
  direction    text        NOT NULL CHECK (direction IN ('debit', 'credit')),
  amount_minor bigint      NOT NULL CHECK (amount_minor >= 0),
  currency     char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  description  text,
  occurred_at  timestamptz NOT NULL,
  received_at  timestamptz NOT NULL,
  metadata     jsonb       NOT NULL DEFAULT '{}'::jsonb,
  -- clock_timestamp(), not now(): the moment this row was written, for end-to-end latency.
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT transactions_raw_id_key UNIQUE (raw_id)
);

CREATE INDEX transactions_tenant_occurred_idx ON transactions (tenant_id, occurred_at DESC, id DESC);
CREATE INDEX transactions_account_idx ON transactions (account_id, occurred_at DESC);

-- Down Migration
DROP TABLE transactions;
DROP TABLE accounts;
