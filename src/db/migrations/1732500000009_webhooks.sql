-- Up Migration
-- Webhook endpoints (docs/api.md, "Webhooks"): where a tenant's events are pushed, each endpoint with its own
-- cursor in the events feed, so a failing or slow endpoint holds back no other.

CREATE TABLE webhook_endpoints (
  id                     text        PRIMARY KEY,
  tenant_id              text        NOT NULL,
  url                    text        NOT NULL,
  events                 text[]      NOT NULL,
  enabled                boolean     NOT NULL DEFAULT true,
  secret                 text        NOT NULL,
  -- After a rotation the previous secret signs too, until this time.
  previous_secret        text,
  previous_secret_until  timestamptz,
  created_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
  -- The last event delivered, in the feed's (txid, seq) order; at creation, the feed's horizon then.
  cursor_txid            xid8        NOT NULL,
  cursor_seq             bigint      NOT NULL DEFAULT 0,
  -- The next event's failed attempts, when to try again, since when it fails, why.
  attempts               integer     NOT NULL DEFAULT 0,
  next_attempt_at        timestamptz,
  failing_since          timestamptz,
  last_error             text,
  disabled_reason        text,
  -- The deliverer working on it, until when.
  lease_owner            text,
  lease_until            timestamptz
);
CREATE INDEX webhook_endpoints_tenant_idx ON webhook_endpoints (tenant_id, created_at);

-- Each delivery attempt, for the board and for support: kept with its endpoint.
CREATE TABLE webhook_deliveries (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  endpoint_id  text        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id     text        NOT NULL,
  attempt      integer     NOT NULL,
  status       integer,
  error        text,
  duration_ms  integer     NOT NULL,
  at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id DESC);

-- Down Migration
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
