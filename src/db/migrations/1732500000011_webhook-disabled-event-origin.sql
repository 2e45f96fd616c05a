-- Up Migration
-- A webhook_endpoint.disabled event is readable with transactions:read (the feed) and goes to the tenant's
-- other endpoints: the endpoint's URL, which may hold a user name, password or a token in its path or
-- query, is cut to its origin (scheme, host, port) in the events recorded before the event carried the origin alone.
UPDATE events
   SET data = jsonb_set(data, '{url}',
                        to_jsonb(regexp_replace(data->>'url', '^([A-Za-z][A-Za-z0-9+.-]*://)(?:[^/?#@\\]*@)*([^/?#\\]*).*$', '\1\2')))
 WHERE type = 'webhook_endpoint.disabled' AND data ? 'url';

-- Down Migration
-- The full URLs are not kept anywhere the events could be restored from.
