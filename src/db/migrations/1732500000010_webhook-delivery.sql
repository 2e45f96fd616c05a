-- Up Migration
-- Webhook delivery as its own role (docs/api.md, "Webhooks"): deliverers wake on a notification when events
-- are recorded, an admin can resend one event to one endpoint, and an endpoint disabled for failing is an event.

-- Every statement that records events wakes the deliverers (LISTEN prismo_events); the notification is sent
-- at commit, and not at all for a transaction that rolls back. Polling remains the fallback.
CREATE FUNCTION notify_prismo_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('prismo_events', '');
  RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION notify_prismo_events();

ALTER TABLE events DROP CONSTRAINT events_type_check;
ALTER TABLE events ADD CONSTRAINT events_type_check
  CHECK (type IN ('transaction.processed', 'transaction.updated', 'transaction.voided', 'transaction.failed',
                  'transaction.dead', 'statement.processed', 'webhook_endpoint.disabled'));

-- An attempt made because an admin asked (a resend), and how long after the event's recording it was answered.
ALTER TABLE webhook_deliveries ADD COLUMN resend boolean NOT NULL DEFAULT false;
ALTER TABLE webhook_deliveries ADD COLUMN delay_ms integer;
-- Attempts are kept EVENTS_RETENTION_DAYS, like the events.
CREATE INDEX webhook_deliveries_at_idx ON webhook_deliveries (at);

-- One event to send again to one endpoint, at its next turn, whatever its cursor; done once attempted.
CREATE TABLE webhook_resends (
  id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  endpoint_id   text        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id      text        NOT NULL,
  requested_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  done_at       timestamptz
);
CREATE INDEX webhook_resends_waiting_idx ON webhook_resends (endpoint_id, id) WHERE done_at IS NULL;

-- Down Migration
DROP TABLE webhook_resends;
DROP INDEX webhook_deliveries_at_idx;
ALTER TABLE webhook_deliveries DROP COLUMN delay_ms;
ALTER TABLE webhook_deliveries DROP COLUMN resend;
DELETE FROM events WHERE type = 'webhook_endpoint.disabled';
ALTER TABLE events DROP CONSTRAINT events_type_check;
ALTER TABLE events ADD CONSTRAINT events_type_check
  CHECK (type IN ('transaction.processed', 'transaction.updated', 'transaction.voided', 'transaction.failed',
                  'transaction.dead', 'statement.processed'));
DROP TRIGGER events_notify ON events;
DROP FUNCTION notify_prismo_events();
