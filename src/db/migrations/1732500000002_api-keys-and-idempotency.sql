-- Up Migration
-- API keys belong to a tenant and carry scopes; only a SHA-256 digest of the key is stored, and the first
-- characters (prefix) so people can tell keys apart in listings.
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

-- Idempotency keys with Stripe's semantics: the first response is kept and replayed for the same key and
-- request; per tenant; expired after the retention window.
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

-- Down Migration
DROP TABLE idempotency_keys;
DROP TABLE api_keys;
