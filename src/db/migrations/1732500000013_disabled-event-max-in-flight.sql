-- Up Migration
-- A webhook_endpoint.disabled event carries the endpoint as the API shows it, which now says its maxInFlight:
-- the events recorded before say 1, what every endpoint had then, so the feed and their resends keep the
-- contract's shape (the response schema refuses an endpoint without it).
UPDATE events SET data = data || '{"maxInFlight": 1}'::jsonb
 WHERE type = 'webhook_endpoint.disabled' AND data IS NOT NULL AND NOT data ? 'maxInFlight';

-- Down Migration
-- Kept: an extra field is harmless to the schema before it.
