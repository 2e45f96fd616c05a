-- Up Migration
-- API keys and idempotency records moved to MongoDB (the accept path needs MongoDB alone). `prismo migrate`
-- copies what these tables still hold into MongoDB before it applies this migration (cli/migrate-database.ts).
DROP TABLE IF EXISTS idempotency_keys;
DROP TABLE IF EXISTS api_keys;

-- Down Migration
CREATE TABLE api_keys (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   text        NOT NULL CHECK (tenant_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  prefix      text        NOT NULL,
  digest      bytea       NOT NULL UNIQUE,
  scopes      text[]      NOT NULL CHECK (scopes <@ ARRAY['transactions:write', 'transactions:read', 'admin']::text[]),
  label       text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE TABLE idempotency_keys (
  tenant_id     text        NOT NULL,
  key           text        NOT NULL,
  request_hash  text        NOT NULL,
  state         text        NOT NULL CHECK (state IN ('in_flight', 'done')),
  status_code   integer,
  headers       jsonb,
  body          text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
