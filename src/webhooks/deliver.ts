// At-least-once delivery: deliverers lease endpoints and post each one's events in the feed's order, signed;
// a failure backs off that endpoint alone, which is disabled after WEBHOOK_DISABLE_AFTER_HOURS of failing.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from 'pino';
import { readEvents } from '../db/events-feed.js';
import type { Database } from '../db/postgres.js';
import { guardedLookup, type Resolve } from './address-guard.js';
import { signatureHeader } from './signature.js';

export interface DeliveryOptions {
  db: Database;
  worker: string;
  allowPrivateUrls: boolean;
  allowedHosts?: readonly string[];
  resolve: Resolve;
  timeoutMs: number;
  disableAfterMs: number;
  logger: Logger;
}

interface Endpoint {
  id: string;
  tenant_id: string;
  url: string;
  events: string[];
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  cursor_txid: string;
  cursor_seq: string;
  attempts: number;
  failing_since: Date | null;
}

const LEASE_MS = 60_000;
/** Events one endpoint gets per lease, so that the others' turn comes. */
const PER_TURN = 100;

/** Backoff before the n-th retry: 1 s doubling to an hour, with ±50 % jitter so endpoints do not retry in step. */
export const backoffMs = (attempts: number) => Math.min(3_600_000, 1000 * 2 ** Math.min(attempts - 1, 12)) * (0.5 + Math.random());

/** At most this many endpoints in delivery at once per deliverer. */
const MAX_IN_FLIGHT = 50;

/** Leases up to `limit` endpoints due for delivery. */
async function claimDue(options: DeliveryOptions, limit: number): Promise<Endpoint[]> {
  return options.db.any<Endpoint>(
    `UPDATE webhook_endpoints SET lease_owner = $1, lease_until = clock_timestamp() + $2 * interval '1 millisecond'
      WHERE id IN (SELECT id FROM webhook_endpoints
                    WHERE enabled AND (lease_until IS NULL OR lease_until < clock_timestamp())
                      AND (next_attempt_at IS NULL OR next_attempt_at <= clock_timestamp())
                    ORDER BY next_attempt_at NULLS FIRST LIMIT $3 FOR UPDATE SKIP LOCKED)
      RETURNING id, tenant_id, url, events, secret, previous_secret, previous_secret_until, cursor_txid::text, cursor_seq::text,
                attempts, failing_since`,
    [options.worker, LEASE_MS, limit],
  );
}

async function deliverEndpoint(options: DeliveryOptions, endpoint: Endpoint, stopping: () => boolean): Promise<number> {
  const { db } = options;
  let delivered = 0;
  try {
    const events = await readEvents(db, {
      tenantId: endpoint.tenant_id,
      types: endpoint.events,
      after: { txid: endpoint.cursor_txid, seq: endpoint.cursor_seq },
      // A failing endpoint retries its next event alone: the turn ends at the first failure anyway.
      limit: endpoint.attempts > 0 ? 1 : PER_TURN,
    });
    for (const { cursor, ...event } of events) {
      if (stopping()) break;
      const attempt = endpoint.attempts + 1;
      const outcome = await post(options, endpoint, JSON.stringify(event));
      await db.none(
        'INSERT INTO webhook_deliveries (endpoint_id, event_id, attempt, status, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)',
        [endpoint.id, event.id, attempt, outcome.status, outcome.error, outcome.ms],
      );
      if (outcome.ok) {
        // Never backwards: a deliverer whose lease lapsed mid-turn may still finish an older event.
        await db.none(
          `UPDATE webhook_endpoints SET cursor_txid = $2::xid8, cursor_seq = $3, attempts = 0, next_attempt_at = NULL, failing_since = NULL,
                  last_error = NULL WHERE id = $1 AND (cursor_txid, cursor_seq) < ($2::xid8, $3::bigint)`,
          [endpoint.id, cursor.txid, cursor.seq],
        );
        endpoint.attempts = 0;
        delivered++;
        continue;
      }
      await recordFailure(options, endpoint, attempt, outcome.error ?? `HTTP ${outcome.status}`);
      break;
    }
  } finally {
    await db.none('UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2', [
      endpoint.id,
      options.worker,
    ]);
  }
  return delivered;
}

/** The head event failed: try again later, or disable the endpoint once it has failed for too long. */
async function recordFailure(options: DeliveryOptions, endpoint: Endpoint, attempt: number, error: string) {
  const failingSince = endpoint.failing_since ?? new Date();
  const giveUp = Date.now() - failingSince.getTime() >= options.disableAfterMs;
  await options.db.none(
    `UPDATE webhook_endpoints SET attempts = $2, failing_since = $3, last_error = $4,
            next_attempt_at = clock_timestamp() + $5 * interval '1 millisecond',
            enabled = enabled AND NOT $6, disabled_reason = CASE WHEN $6 THEN $7 ELSE disabled_reason END
      WHERE id = $1`,
    [
      endpoint.id,
      attempt,
      failingSince,
      error.slice(0, 500),
      backoffMs(attempt),
      giveUp,
      `failing since ${failingSince.toISOString()}: ${error.slice(0, 200)}`,
    ],
  );
  if (giveUp) options.logger.warn({ component: 'webhooks', endpoint: endpoint.id, error }, 'webhook endpoint disabled: failing too long');
}

/**
 * POSTs one event: a 2xx is delivered; anything else, a timeout or a refused address is a failed attempt. A
 * redirect is an answer like any other 3xx (node:http never follows one): a failure.
 */
function post(
  options: DeliveryOptions,
  endpoint: Endpoint,
  body: string,
): Promise<{ ok: boolean; status: number | null; error: string | null; ms: number }> {
  const started = performance.now();
  const secrets = [endpoint.secret];
  if (endpoint.previous_secret && endpoint.previous_secret_until && endpoint.previous_secret_until > new Date())
    secrets.push(endpoint.previous_secret);
  const url = new URL(endpoint.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const done = (status: number | null, error: string | null) =>
      resolve({ ok: status !== null && status >= 200 && status < 300, status, error, ms: Math.round(performance.now() - started) });
    const req = request(
      url,
      {
        method: 'POST',
        lookup: guardedLookup({ allowPrivate: options.allowPrivateUrls, allowedHosts: options.allowedHosts, resolve: options.resolve }),
        timeout: options.timeoutMs,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Prismo-Webhooks/1',
          'prismo-signature': signatureHeader(secrets, Math.floor(Date.now() / 1000), body),
        },
      },
      (response) => {
        response.resume(); // the answer's body is not read
        response.on('end', () => done(response.statusCode ?? null, null));
        response.on('error', (error) => done(null, error.message));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', (error) => done(null, error.message));
    req.end(body);
  });
}

/**
 * Every 250 ms, leases the endpoints due (up to MAX_IN_FLIGHT in delivery) and delivers each on its own, so
 * that an endpoint that answers slowly or never (WEBHOOK_TIMEOUT_MS) holds back no other.
 */
export function startDeliverer(options: DeliveryOptions): { stop(): Promise<void> } {
  const inFlight = new Set<Promise<unknown>>();
  let claiming = false;
  let stopped = false;
  let warned = false;
  const tick = async () => {
    if (stopped || claiming || inFlight.size >= MAX_IN_FLIGHT) return;
    claiming = true;
    try {
      for (const endpoint of await claimDue(options, MAX_IN_FLIGHT - inFlight.size)) {
        const delivery = deliverEndpoint(options, endpoint, () => stopped).catch((error: Error) =>
          options.logger.warn({ component: 'webhooks', endpoint: endpoint.id, err: error }, 'webhook delivery interrupted; retried'),
        );
        inFlight.add(delivery);
        void delivery.finally(() => inFlight.delete(delivery));
      }
      warned = false;
    } catch (error) {
      if (!warned) options.logger.warn({ component: 'webhooks', err: error }, 'webhook delivery paused: cannot read endpoints');
      warned = true;
    } finally {
      claiming = false;
    }
  };
  const timer = setInterval(() => void tick(), 250);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}
