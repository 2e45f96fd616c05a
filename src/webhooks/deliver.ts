// At-least-once delivery: deliverers lease endpoints with events waiting and post each one's events in the
// feed's order, signed; a failure backs off that endpoint alone, disabled after WEBHOOK_DISABLE_AFTER_HOURS.
import type { Logger } from '../config/logger.js';
import { type FeedCursor, type FeedEvent, readEvents } from '../db/events-feed.js';
import type { Database } from '../db/postgres.js';
import type { Resolve } from '../webhook-endpoints/address-guard.js';
import type { AttemptRow } from '../webhook-endpoints/endpoint-view.js';
import { claimDue, type Endpoint, WAITING_SQL } from './claim.js';
import { disableEndpoint } from './disable.js';
import { post } from './post.js';
import { TenantSlots } from './tenant-slots.js';

export interface DeliveryOptions {
  db: Database;
  worker: string;
  allowPrivateUrls: boolean;
  allowedHosts?: readonly string[];
  resolve: Resolve;
  timeoutMs: number;
  /** WEBHOOK_CONCURRENCY: endpoints in delivery at once, shared between tenants (tenant-slots). */
  concurrency: number;
  disableAfterMs: number;
  /** How long a deliverer holds an endpoint without renewing; a killed deliverer's endpoints wait this long. */
  leaseMs: number;
  logger: Logger;
  /** Each attempt's outcome, for the metrics; `delayMs` from the event's recording to its 2xx. */
  onAttempt?: (endpointId: string, ok: boolean, delayMs: number | null) => void;
}

/** Events read and posted per page; the cursor and the attempts are written once per page. */
const PAGE = 100;
/** A page is cut after this long, so that a deliverer killed mid-page has sent at most this much again. */
const CHECKPOINT_MS = 250;

/** Backoff before the n-th retry: 1 s doubling to an hour, with ±50 % jitter so endpoints do not retry in step. */
export const backoffMs = (attempts: number) => Math.min(3_600_000, 1000 * 2 ** Math.min(attempts - 1, 12)) * (0.5 + Math.random());

/** Posts one event and keeps the attempt for the next write. */
async function attempt(options: DeliveryOptions, endpoint: Endpoint, event: Omit<FeedEvent, 'cursor'>, n: number, resend: boolean) {
  const outcome = await post(options, endpoint, JSON.stringify(event));
  const delayMs = outcome.ok ? Math.max(0, Date.now() - Date.parse(event.created)) : null;
  options.onAttempt?.(endpoint.id, outcome.ok, delayMs);
  const row: AttemptRow = {
    event_id: event.id,
    attempt: n,
    status: outcome.status,
    error: outcome.error,
    duration_ms: outcome.ms,
    delay_ms: delayMs,
    resend,
  };
  return { ok: outcome.ok, row };
}

/** Writes a page's attempts and, after a success, moves the cursor on (never backwards) and clears the failure state. */
async function checkpoint(options: DeliveryOptions, endpoint: Endpoint, attempts: AttemptRow[], delivered: FeedCursor | null) {
  if (attempts.length === 0) return;
  await options.db.tx(async (t) => {
    await t.none(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, attempt, status, error, duration_ms, delay_ms, resend)
       SELECT $1, a.event_id, a.attempt, a.status, a.error, a.duration_ms, a.delay_ms, a.resend
         FROM jsonb_to_recordset($2::jsonb)
           AS a(event_id text, attempt integer, status integer, error text, duration_ms integer, delay_ms integer, resend boolean)`,
      [endpoint.id, JSON.stringify(attempts)],
    );
    // A deliverer whose lease lapsed mid-turn may still finish an older event: the cursor only moves forward.
    if (delivered)
      await t.none(
        `UPDATE webhook_endpoints SET cursor_txid = $2::xid8, cursor_seq = $3, attempts = 0, next_attempt_at = NULL, failing_since = NULL,
                last_error = NULL WHERE id = $1 AND (cursor_txid, cursor_seq) < ($2::xid8, $3::bigint)`,
        [endpoint.id, delivered.txid, delivered.seq],
      );
  });
}

/**
 * Caught up: the cursor moves to the feed's last visible event of the tenant if no event the endpoint takes
 * lies between (one statement, one snapshot), so an endpoint taking rare types does not scan the others again.
 */
async function skipAhead(db: Database, endpoint: Endpoint) {
  await db.none(
    `UPDATE webhook_endpoints w SET cursor_txid = last.txid, cursor_seq = last.seq
       FROM (SELECT txid, seq FROM events WHERE tenant_id = $2 AND txid < pg_snapshot_xmin(pg_current_snapshot())
              ORDER BY txid DESC, seq DESC LIMIT 1) last
      WHERE w.id = $1 AND (w.cursor_txid, w.cursor_seq) < (last.txid, last.seq) AND NOT ${WAITING_SQL}`,
    [endpoint.id, endpoint.tenant_id],
  );
}

/** The resends asked for: each event posted once more, whatever the cursor; a failure is recorded, not retried. */
async function sendResends(options: DeliveryOptions, endpoint: Endpoint) {
  const waiting = await options.db.any<{ id: string; event_id: string }>(
    'SELECT id::text, event_id FROM webhook_resends WHERE endpoint_id = $1 AND done_at IS NULL ORDER BY id LIMIT $2',
    [endpoint.id, PAGE],
  );
  if (waiting.length === 0) return;
  const ids = waiting.map((w) => w.event_id);
  const events = new Map(
    (await readEvents(options.db, { tenantId: endpoint.tenant_id, ids, limit: ids.length })).map(({ cursor: _, ...e }) => [e.id, e]),
  );
  const attempts: AttemptRow[] = [];
  for (const eventId of new Set(ids)) {
    const event = events.get(eventId);
    if (event) attempts.push((await attempt(options, endpoint, event, 1, true)).row);
    else
      attempts.push({
        event_id: eventId,
        attempt: 1,
        status: null,
        error: 'the event is no longer kept',
        duration_ms: 0,
        delay_ms: null,
        resend: true,
      });
  }
  await checkpoint(options, endpoint, attempts, null);
  await options.db.none('UPDATE webhook_resends SET done_at = clock_timestamp() WHERE id = ANY($1::bigint[])', [waiting.map((w) => w.id)]);
}

/** Posts a page's events in order until one fails or `enough()` (then `cut`); the cursor follows in memory. */
async function postPage(options: DeliveryOptions, endpoint: Endpoint, events: FeedEvent[], enough: () => boolean) {
  const attempts: AttemptRow[] = [];
  let last: FeedCursor | null = null;
  let delivered = 0;
  for (const { cursor, ...event } of events) {
    if (enough()) return { attempts, last, delivered, failed: false, cut: true };
    const { ok, row } = await attempt(options, endpoint, event, endpoint.attempts + 1, false);
    attempts.push(row);
    if (!ok) return { attempts, last, delivered, failed: true, cut: false };
    last = cursor;
    delivered++;
    [endpoint.cursor_txid, endpoint.cursor_seq, endpoint.attempts, endpoint.failing_since] = [cursor.txid, cursor.seq, 0, null];
  }
  return { attempts, last, delivered, failed: false, cut: false };
}

/**
 * One turn on a leased endpoint: its resends, then its events page by page until it is caught up, an attempt
 * fails, or half the lease has gone (then the lease is given back and the endpoint claimed again). The lease
 * (LEASE_MS + WEBHOOK_TIMEOUT_MS) outlasts a turn and its last post, so no other deliverer takes it meanwhile.
 * Returns how many events it delivered.
 */
async function deliverEndpoint(options: DeliveryOptions, endpoint: Endpoint, stopping: () => boolean): Promise<number> {
  const { db } = options;
  const turnEnds = Date.now() + options.leaseMs / 2;
  let delivered = 0;
  try {
    await sendResends(options, endpoint);
    // Claimed for a resend while backing off: the head event waits for its time.
    const backingOff = endpoint.next_attempt_at !== null && endpoint.next_attempt_at.getTime() > Date.now();
    while (!backingOff) {
      // A failing endpoint retries its next event alone: the turn ends at the first failure anyway.
      const limit = endpoint.attempts > 0 ? 1 : PAGE;
      const after = { txid: endpoint.cursor_txid, seq: endpoint.cursor_seq };
      const events = await readEvents(db, { tenantId: endpoint.tenant_id, types: endpoint.events, after, limit });
      const pageEnds = Math.min(turnEnds, Date.now() + CHECKPOINT_MS);
      const page = await postPage(options, endpoint, events, () => stopping() || Date.now() > pageEnds);
      delivered += page.delivered;
      await checkpoint(options, endpoint, page.attempts, page.last);
      if (page.failed) {
        await recordFailure(options, endpoint, page.attempts.at(-1)!);
        break;
      }
      if (stopping() || Date.now() > turnEnds) break;
      if (!page.cut && events.length < limit) {
        await skipAhead(db, endpoint);
        break;
      }
    }
  } finally {
    await db.none('UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2', [
      endpoint.id,
      options.worker,
    ]);
  }
  return delivered;
}

/** The head event failed: try again after a backoff; an endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS is disabled. */
async function recordFailure(options: DeliveryOptions, endpoint: Endpoint, failed: AttemptRow) {
  const failingSince = endpoint.failing_since ?? new Date();
  const error = failed.error ?? `HTTP ${failed.status}`;
  await options.db.none(
    `UPDATE webhook_endpoints SET attempts = $2, failing_since = $3, last_error = $4,
            next_attempt_at = clock_timestamp() + $5 * interval '1 millisecond' WHERE id = $1`,
    [endpoint.id, failed.attempt, failingSince, error.slice(0, 500), backoffMs(failed.attempt)],
  );
  [endpoint.attempts, endpoint.failing_since] = [failed.attempt, failingSince];
  if (Date.now() - failingSince.getTime() >= options.disableAfterMs) await disableEndpoint(options, endpoint, error);
}

/** How often a deliverer looks for work: every POLL_MS for HOT_MS after a wake, every IDLE_MS otherwise. */
const POLL_MS = 25;
const HOT_MS = 1000;
const IDLE_MS = 1000;

/**
 * Every second, and at once when events are recorded (wake()), leases the endpoints with work (up to
 * WEBHOOK_CONCURRENCY in delivery, each tenant up to its share: tenant-slots) and delivers each on its own,
 * so that an endpoint that answers slowly or never (WEBHOOK_TIMEOUT_MS) holds back no other, and one
 * tenant's endpoints no other tenant's. An event shows in the feed only once every older transaction
 * has ended, and one of those may record no event (so send no wake): for a second after a wake it looks
 * every 25 ms whether the feed's horizon has moved, and claims when it has.
 */
export function startDeliverer(options: DeliveryOptions): { stop(): Promise<void>; wake(): void } {
  const inFlight = new Set<Promise<unknown>>();
  const slots = new TenantSlots(options.concurrency);
  let claiming = false;
  let again = false;
  let stopped = false;
  let warned = false;
  /** Due endpoints were left for want of a share, or a claim was skipped with no slot free: a slot given back claims again. */
  let leftBehind = false;
  /** Counts wake()s: a turn that began before one claims again when it ends, as the endpoint was leased then. */
  let wakes = 0;
  const serve = (endpoint: Endpoint) => {
    const seen = wakes;
    const delivery = deliverEndpoint(options, endpoint, () => stopped)
      .then((delivered) => (delivered > 0 || wakes !== seen) && setImmediate(() => void tick()))
      .catch((error: Error) =>
        options.logger.warn({ component: 'webhooks', endpoint: endpoint.id, err: error }, 'webhook delivery interrupted; retried'),
      )
      .finally(() => {
        slots.release(endpoint.tenant_id);
        inFlight.delete(delivery);
        if (leftBehind || again) setImmediate(() => void tick());
      });
    inFlight.add(delivery);
  };
  const tick = async () => {
    if (stopped) return;
    if (claiming || slots.free <= 0) {
      again = true;
      return;
    }
    claiming = true;
    again = false;
    try {
      const claimed = await claimDue(options, slots);
      leftBehind = claimed.leftBehind;
      for (const endpoint of claimed.leased) serve(endpoint);
      warned = false;
    } catch (error) {
      if (!warned) options.logger.warn({ component: 'webhooks', err: error }, 'webhook delivery paused: cannot read endpoints');
      warned = true;
    } finally {
      claiming = false;
      if (again) setImmediate(() => void tick());
    }
  };
  let hotUntil = 0;
  let lastLook = 0;
  /** The feed's horizon at the last look: a quick look while it has not moved would find nothing new. */
  let horizon = '';
  const look = async (quick: boolean) => {
    if (quick) {
      const now = await options.db.one('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS h', [], (r: { h: string }) => r.h);
      if (now === horizon) return;
      horizon = now;
    }
    await tick();
  };
  const timer = setInterval(() => {
    const now = Date.now();
    const idle = now - lastLook >= IDLE_MS;
    if (idle || now < hotUntil) {
      if (idle) lastLook = now;
      // The claim reads every enabled endpoint; the horizon is one call. Resends and retries due are found
      // by the look each second.
      look(!idle).catch(() => undefined);
    }
  }, POLL_MS);
  return {
    wake() {
      wakes++;
      hotUntil = Date.now() + HOT_MS;
      void tick();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(inFlight);
    },
  };
}
