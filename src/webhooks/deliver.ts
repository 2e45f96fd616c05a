// At-least-once delivery: deliverers lease endpoints with events waiting and post each one's events in the
// feed's order, signed; a failure backs off that endpoint alone, disabled after WEBHOOK_DISABLE_AFTER_HOURS.
import type { Database } from '../db/postgres.js';
import { feedHorizon } from '../pg-store/feed-horizon.js';
import { finishResends } from '../pg-store/finish-resends.js';
import { type FeedCursor, type FeedEvent, readEvents } from '../pg-store/read-events.js';
import { readResends } from '../pg-store/read-resends.js';
import { recordAttempts } from '../pg-store/record-attempts.js';
import { recordEndpointFailure } from '../pg-store/record-endpoint-failure.js';
import { releaseEndpoint } from '../pg-store/release-endpoint.js';
import type { AttemptRow } from '../pg-store/rows.js';
import { skipAhead } from '../pg-store/skip-ahead.js';
import type { Resolve } from '../webhook-endpoints/address-guard.js';
import { claimDue, type Endpoint } from './claim.js';
import { disableEndpoint } from './disable.js';
import type { WebhookEvents } from './events.js';
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
  /** What the deliverer does, for its log subscriber and the metrics (webhooks/events.ts). */
  events: WebhookEvents;
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
  options.events.emit('attempt', {
    endpointId: endpoint.id,
    tenantId: endpoint.tenant_id,
    eventId: event.id,
    ok: outcome.ok,
    status: outcome.status,
    error: outcome.error,
    durationMs: outcome.ms,
    delayMs,
    resend,
  });
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
  await recordAttempts(options.db, endpoint.id, attempts, delivered);
}

/** The resends asked for: each event posted once more, whatever the cursor; a failure is recorded, not retried. */
async function sendResends(options: DeliveryOptions, endpoint: Endpoint) {
  // The lease said whether any wait: most turns have none, and skip the read.
  if (!endpoint.resends_waiting) return;
  const waiting = await readResends(options.db, endpoint.id, PAGE);
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
  await finishResends(
    options.db,
    waiting.map((w) => w.id),
  );
}

/** A tenant's posts beyond the first of each endpoint, within its share of the deliverer (TenantSlots). */
export interface ExtraPosts {
  take(): boolean;
  give(): void;
}

/**
 * Posts a page's events until one fails or `enough()` (then `cut`): `window` at once to begin with, one more
 * after each success up to the endpoint's max_in_flight (after a failure the turn starts again at one, so a
 * receiver failing the first of each window cannot make every event cost max_in_flight attempts), each post
 * beyond the first only while the tenant's extra posts stay within its share (`posts`). Started in the feed's
 * order; the cursor moves past the events delivered without a gap, and one delivered beyond a failure is
 * posted again after it (at least once, de-duplicated by id). Every post ends before it returns or throws.
 */
async function postPage(
  options: DeliveryOptions,
  endpoint: Endpoint,
  events: FeedEvent[],
  enough: () => boolean,
  { window, posts }: { window: number; posts: ExtraPosts },
) {
  const outcomes: Array<{ ok: boolean; row: AttemptRow }> = [];
  const most = Math.max(1, endpoint.max_in_flight);
  let next = 0;
  let running = 0;
  let failed = false;
  let cut = false;
  let thrown: { error: unknown } | undefined;
  const lanes: Array<Promise<void>> = [];
  const lane = async (extra: boolean) => {
    try {
      while (next < events.length && !failed) {
        if (enough()) {
          cut = true;
          return;
        }
        const index = next++;
        const { cursor: _, ...event } = events[index]!;
        outcomes[index] = await attempt(options, endpoint, event, endpoint.attempts + 1, false);
        if (!outcomes[index].ok) failed = true;
        else {
          window = Math.min(most, window + 1);
          open();
        }
      }
    } catch (error) {
      thrown ??= { error };
      failed = true;
    } finally {
      running--;
      if (extra) posts.give();
    }
  };
  // Each lane takes its first event before open() looks again, so `next` says what is left to start; a lane
  // that took none (the page was cut) ends at once, and no more are opened.
  const open = () => {
    while (!failed && running < window && next < events.length) {
      const extra = running > 0;
      if (extra && !posts.take()) return;
      running++;
      const started = next;
      lanes.push(lane(extra));
      if (next === started) return;
    }
  };
  open();
  // Lanes are added while these run: wait for each, the late ones included.
  for (let i = 0; i < lanes.length; i++) await lanes[i];
  if (thrown) throw thrown.error;
  let delivered = 0;
  while (outcomes[delivered]?.ok) delivered++;
  const last = delivered > 0 ? events[delivered - 1]!.cursor : null;
  if (last) [endpoint.cursor_txid, endpoint.cursor_seq, endpoint.attempts, endpoint.failing_since] = [last.txid, last.seq, 0, null];
  const attempts = outcomes.filter(Boolean).map((outcome) => outcome.row);
  return { attempts, last, delivered, failedAttempt: outcomes[delivered]?.row, cut: cut && !failed, window };
}

/**
 * One turn on a leased endpoint: its resends, then its events page by page until it is caught up, an attempt
 * fails, or half the lease has gone (then the lease is given back and the endpoint claimed again). The lease
 * (LEASE_MS + WEBHOOK_TIMEOUT_MS) outlasts a turn and its last post, so no other deliverer takes it meanwhile.
 * Returns how many events it delivered.
 */
async function deliverEndpoint(options: DeliveryOptions, endpoint: Endpoint, stopping: () => boolean, posts: ExtraPosts): Promise<number> {
  const { db } = options;
  const turnEnds = Date.now() + options.leaseMs / 2;
  let delivered = 0;
  try {
    await sendResends(options, endpoint);
    // Claimed for a resend while backing off: the head event waits for its time.
    const backingOff = endpoint.next_attempt_at !== null && endpoint.next_attempt_at.getTime() > Date.now();
    // Posts at once: all the endpoint allows, or after a failure one, growing with each success (postPage).
    let window = endpoint.attempts > 0 ? 1 : Math.max(1, endpoint.max_in_flight);
    while (!backingOff) {
      // A failing endpoint retries its next event alone: the turn ends at the first failure anyway.
      const limit = endpoint.attempts > 0 ? 1 : PAGE;
      const after = { txid: endpoint.cursor_txid, seq: endpoint.cursor_seq };
      const events = await readEvents(db, { tenantId: endpoint.tenant_id, types: endpoint.events, after, limit });
      const pageEnds = Math.min(turnEnds, Date.now() + CHECKPOINT_MS);
      const page = await postPage(options, endpoint, events, () => stopping() || Date.now() > pageEnds, { window, posts });
      window = page.window;
      delivered += page.delivered;
      await checkpoint(options, endpoint, page.attempts, page.last);
      if (page.failedAttempt) {
        await recordFailure(options, endpoint, page.failedAttempt);
        break;
      }
      if (stopping() || Date.now() > turnEnds) break;
      if (!page.cut && events.length < limit) {
        await skipAhead(db, endpoint);
        break;
      }
    }
  } finally {
    await releaseEndpoint(db, endpoint.id, options.worker);
  }
  return delivered;
}

/** The head event failed: try again after a backoff; an endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS is disabled. */
async function recordFailure(options: DeliveryOptions, endpoint: Endpoint, failed: AttemptRow) {
  const failingSince = endpoint.failing_since ?? new Date();
  const error = failed.error ?? `HTTP ${failed.status}`;
  await recordEndpointFailure(options.db, endpoint.id, {
    attempts: failed.attempt,
    failingSince,
    error: error.slice(0, 500),
    backoffMs: backoffMs(failed.attempt),
  });
  [endpoint.attempts, endpoint.failing_since] = [failed.attempt, failingSince];
  if (Date.now() - failingSince.getTime() >= options.disableAfterMs) await disableEndpoint(options, endpoint, error);
}

/** How often a deliverer looks for work: every POLL_MS for HOT_MS after a wake, every IDLE_MS otherwise. */
const POLL_MS = 25;
const HOT_MS = 1000;
const IDLE_MS = 1000;

/** Claims the endpoints with work and serves each on its own, as slots allow (tenant-slots). */
class Claimer {
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly slots: TenantSlots;
  private claiming = false;
  private again = false;
  private stopped = false;
  /** The last claim failed: said once (delivery-paused) until one succeeds again. */
  private paused = false;
  /** Due endpoints were left for want of a share, or a claim was skipped with no slot free: a slot given back claims again. */
  private leftBehind = false;
  /** Counts wake()s: a turn that began before one claims again when it ends, as the endpoint was leased then. */
  private wakes = 0;

  constructor(private readonly options: DeliveryOptions) {
    this.slots = new TenantSlots(options.concurrency);
  }

  wake(): void {
    this.wakes++;
    void this.tick();
  }

  /** Claims once, unless a claim runs already or no slot is free: then claims again when it ends or a slot frees. */
  async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.claiming || this.slots.free <= 0) {
      this.again = true;
      return;
    }
    this.claiming = true;
    this.again = false;
    try {
      const claimed = await claimDue(this.options, this.slots);
      this.leftBehind = claimed.leftBehind;
      for (const endpoint of claimed.leased) this.serve(endpoint);
      if (this.paused) this.options.events.emit('delivery-resumed');
      this.paused = false;
    } catch (error) {
      if (!this.paused) this.options.events.emit('delivery-paused', { error });
      this.paused = true;
    } finally {
      this.claiming = false;
      if (this.again) setImmediate(() => void this.tick());
    }
  }

  /** One turn on a leased endpoint; it claims again after, if the turn delivered or a wake came meanwhile. */
  private serve(endpoint: Endpoint): void {
    const seen = this.wakes;
    const tenant = endpoint.tenant_id;
    const posts = { take: () => this.slots.takeExtraPost(tenant), give: () => this.slots.giveExtraPost(tenant) };
    const delivery = deliverEndpoint(this.options, endpoint, () => this.stopped, posts)
      .then((delivered) => (delivered > 0 || this.wakes !== seen) && setImmediate(() => void this.tick()))
      .catch((error: Error) =>
        this.options.events.emit('delivery-interrupted', { endpointId: endpoint.id, tenantId: endpoint.tenant_id, error }),
      )
      .finally(() => {
        this.slots.release(endpoint.tenant_id);
        this.inFlight.delete(delivery);
        if (this.leftBehind || this.again) setImmediate(() => void this.tick());
      });
    this.inFlight.add(delivery);
  }

  /** Takes no more work and waits for the turns under way (each ends at its next page). */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.inFlight);
  }
}

/**
 * Looks for work every IDLE_MS, and every POLL_MS for HOT_MS after hot(): a quick look reads the feed's
 * horizon alone and claims only when it has moved.
 */
function startLooking(db: Database, claim: () => Promise<void>): { hot(): void; stop(): void } {
  let hotUntil = 0;
  let lastLook = 0;
  /** The feed's horizon at the last look: a quick look while it has not moved would find nothing new. */
  let horizon = '';
  const look = async (quick: boolean) => {
    if (quick) {
      const now = await feedHorizon(db);
      if (now === horizon) return;
      horizon = now;
    }
    await claim();
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
    hot() {
      hotUntil = Date.now() + HOT_MS;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/**
 * Every second, and at once when events are recorded (wake()), leases the endpoints with work (up to
 * WEBHOOK_CONCURRENCY in delivery, each tenant up to its share: tenant-slots) and delivers each on its own,
 * so that an endpoint that answers slowly or never (WEBHOOK_TIMEOUT_MS) holds back no other, and one
 * tenant's endpoints no other tenant's. An event shows in the feed only once every older transaction
 * has ended, and one of those may record no event (so send no wake): for a second after a wake it looks
 * every 25 ms whether the feed's horizon has moved, and claims when it has.
 */
export function startDeliverer(options: DeliveryOptions): { stop(): Promise<void>; wake(): void } {
  const claimer = new Claimer(options);
  const looking = startLooking(options.db, () => claimer.tick());
  return {
    wake() {
      looking.hot();
      claimer.wake();
    },
    async stop() {
      looking.stop();
      await claimer.stop();
    },
  };
}
