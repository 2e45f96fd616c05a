-- Up Migration
-- How many events a deliverer posts to an endpoint at once (docs/api.md, "Webhooks"): 1, the default and what
-- every endpoint had before, keeps the feed's order, one at a time; up to 16 trades the order for throughput.
ALTER TABLE webhook_endpoints ADD COLUMN max_in_flight smallint NOT NULL DEFAULT 1
  CONSTRAINT webhook_endpoints_max_in_flight_check CHECK (max_in_flight BETWEEN 1 AND 16);

-- Down Migration
ALTER TABLE webhook_endpoints DROP COLUMN max_in_flight;
