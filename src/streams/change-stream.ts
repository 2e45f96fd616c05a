// The change-stream source: insert events on raw_transactions as candidates carrying their resume token.
import {
  asyncScheduler,
  defer,
  EMPTY,
  interval,
  Observable,
  retry,
  type SchedulerLike,
  type Subscriber,
  type Subscription,
  timer,
} from 'rxjs';
import type { StreamFailure } from '../domain/errors.js';
import { backoffDelay } from './backoff.js';
import type { Candidate } from './pipeline.js';

/** One insert event, as much of it as this source reads. */
export interface InsertEvent {
  _id: unknown;
  documentKey: { _id: { toHexString(): string } };
  clusterTime?: { getHighBits(): number };
  /** What the event carries of the document: its tenant, when the stream's pipeline keeps it. */
  fullDocument?: { tenantId?: unknown; slot?: unknown };
}

/** The part of the driver's ChangeStream this source uses, in iterator mode. */
export interface InsertEventStream {
  /** The next event, waiting for one; rejects with the stream's error. */
  next(): Promise<InsertEvent>;
  close(): Promise<void>;
  /** The token to resume after everything seen so far, advanced by the server even when nothing changes. */
  readonly resumeToken?: unknown;
  /** Events received and not yet handed out by next(): at 0, the next next() asks the server again (a getMore). */
  bufferedCount?(): number;
}

export type ChangeStreamEvent =
  | { kind: 'reconnecting'; error: unknown; attempt: number; delayMs: number }
  | { kind: 'history-lost'; error: unknown }
  | { kind: 'unsupported'; error: unknown }
  | { kind: 'heartbeat-failed'; error: unknown };

export interface ChangeStreamOptions {
  /** Opens a stream of insert events resuming after `resumeToken` (none: from now). */
  open(resumeToken: unknown): InsertEventStream;
  /** What a failure of the stream means; the adapter knows its server's error codes (db/mongo-errors.ts). */
  classify(error: unknown): StreamFailure;
  resumeToken?: unknown;
  retryBaseMs: number;
  retryMaxMs: number;
  scheduler?: SchedulerLike;
  onEvent?: (event: ChangeStreamEvent) => void;
  /**
   * Stores the stream's latest token while nothing is in flight, so that on a quiet collection the stored
   * token keeps moving and never falls out of the oplog.
   */
  heartbeat?: { intervalMs: number; isIdle(): boolean; save(resumeToken: unknown): Promise<unknown> };
  /** How many more candidates the pipeline can take now; at 0 the stream is not read until there is room. */
  room?: () => number;
  /** How often to look again for room while the pipeline is full (default 5 ms). */
  roomPollMs?: number;
  /**
   * The server is asked for more events (a getMore) at most once per this many ms while events flow: a
   * getMore returns as soon as one event is there, so at 1,000 inserts/s the stream would cost one round trip,
   * and its share of the processor's and the server's CPU, per document. Events that arrive meanwhile come in
   * the next reply together. 0 or absent: ask again at once.
   */
  gatherMs?: number;
}

/** The pipeline's candidate for an insert event: the document's id and tenant, the token, the cluster time. */
function candidateOf(change: InsertEvent): Candidate {
  const seconds = change.clusterTime?.getHighBits();
  const tenantId = change.fullDocument?.tenantId;
  const slot = change.fullDocument?.slot;
  return {
    id: change.documentKey._id.toHexString(),
    ...(typeof tenantId === 'string' ? { tenantId } : {}),
    ...(typeof slot === 'number' ? { slot } : {}),
    via: 'stream',
    resumeToken: change._id,
    ...(seconds ? { at: new Date(seconds * 1000) } : {}),
  };
}

/** Events read between two turns of the event loop. */
const YIELD_EVERY = 64;

/** Failed attempts to resume after the same token before it is given up as unusable. */
export const TOKEN_ATTEMPTS = 3;

/**
 * It pulls (the driver's next()) only while the pipeline has room, so a full pipeline stops reading the stream
 * instead of dropping events for the sweep: the server keeps them until there is room. It reconnects with
 * backoff after errors, restarts without a token when the token is no longer usable (the sweep covers the
 * gap), and completes when the server offers no change streams at all.
 */
export function changeStream$(options: ChangeStreamOptions): Observable<Candidate> {
  const scheduler = options.scheduler ?? asyncScheduler;
  // Where the next attachment resumes: after the last event read, or the last token the heartbeat stored.
  const position: Position = { resumeToken: options.resumeToken };
  return defer(() => attach$(options, scheduler, position)).pipe(
    retry({ resetOnSuccess: true, delay: (error, attempt) => reconnectDelay$(options, scheduler, position, error, attempt) }),
  );
}

interface Position {
  resumeToken: unknown;
}

/** One attachment to the stream: reads while there is room, beats while idle, closes the stream on teardown. */
function attach$(options: ChangeStreamOptions, scheduler: SchedulerLike, position: Position): Observable<Candidate> {
  return new Observable<Candidate>((subscriber) => {
    const stream = options.open(position.resumeToken);
    let closed = false;
    const isClosed = () => closed;
    readEvents(options, scheduler, subscriber, stream, position, isClosed).catch((error: unknown) => {
      if (!closed) subscriber.error(error);
    });
    const beats = options.heartbeat && beat(options, options.heartbeat, scheduler, stream, position);
    return () => {
      closed = true;
      beats?.unsubscribe();
      stream.close().catch(() => undefined);
    };
  });
}

/** Pulls events one by one while the pipeline has room, until the attachment closes. */
async function readEvents(
  options: ChangeStreamOptions,
  scheduler: SchedulerLike,
  subscriber: Subscriber<Candidate>,
  stream: InsertEventStream,
  position: Position,
  isClosed: () => boolean,
): Promise<void> {
  /** When the server was last asked for more. */
  let askedAt = Number.NEGATIVE_INFINITY;
  for (let read = 1; !isClosed(); read++) {
    if ((options.room?.() ?? 1) <= 0) {
      await roomFreed(options, scheduler, subscriber, isClosed);
      continue;
    }
    // The driver hands out a buffered batch of events in microtasks: without a turn of the event loop
    // now and then, reading through a long batch (another tenant's backlog, dropped at its cap) would
    // hold up the batches' own I/O until the whole batch was read.
    if (read % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    if (options.gatherMs && stream.bufferedCount?.() === 0) {
      const waitMs = askedAt + options.gatherMs - scheduler.now();
      if (waitMs > 0) await gathered(scheduler, subscriber, waitMs);
      if (isClosed()) return;
      askedAt = scheduler.now();
    }
    const change = await stream.next();
    if (isClosed()) return;
    position.resumeToken = change._id;
    subscriber.next(candidateOf(change));
  }
}

/** Resolves after `waitMs`, unless the attachment closes first (then never: the reader is done with). */
function gathered(scheduler: SchedulerLike, subscriber: Subscriber<Candidate>, waitMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const wait = scheduler.schedule(() => {
      subscriber.remove(wait);
      resolve();
    }, waitMs);
    subscriber.add(wait);
  });
}

/** Resolves once the pipeline has room again (or the attachment closed). */
function roomFreed(
  options: ChangeStreamOptions,
  scheduler: SchedulerLike,
  subscriber: Subscriber<Candidate>,
  isClosed: () => boolean,
): Promise<void> {
  return new Promise<void>((resolve) => {
    const poll = scheduler.schedule(function wait() {
      if (!isClosed() && (options.room?.() ?? 1) <= 0) return void this.schedule(undefined, options.roomPollMs ?? 5);
      // Done waiting: no longer the subscriber's to tear down (episodes of backpressure must not pile up).
      subscriber.remove(poll);
      resolve();
    }, options.roomPollMs ?? 5);
    subscriber.add(poll);
  });
}

/** Stores the stream's latest token each interval while nothing is in flight and the token has moved. */
function beat(
  options: ChangeStreamOptions,
  heartbeat: NonNullable<ChangeStreamOptions['heartbeat']>,
  scheduler: SchedulerLike,
  stream: InsertEventStream,
  position: Position,
): Subscription {
  let lastBeat: string | undefined;
  return interval(heartbeat.intervalMs, scheduler).subscribe(() => {
    const token = stream.resumeToken;
    const key = token == null ? undefined : JSON.stringify(token);
    if (key === undefined || key === lastBeat || !heartbeat.isIdle()) return;
    lastBeat = key;
    position.resumeToken = token;
    heartbeat.save(token).catch((error: unknown) => options.onEvent?.({ kind: 'heartbeat-failed', error }));
  });
}

/** After a failure: give up (no change streams), restart from now (the token is unusable), or back off. */
function reconnectDelay$(
  options: ChangeStreamOptions,
  scheduler: SchedulerLike,
  position: Position,
  error: unknown,
  attempt: number,
): Observable<unknown> {
  const failure = options.classify(error);
  if (failure === 'unsupported') {
    options.onEvent?.({ kind: 'unsupported', error });
    return EMPTY;
  }
  // Servers name an unusable token; some test servers only fail again and again. Either way, resuming
  // after it is given up: the stream restarts from now and the sweep covers the gap.
  if (failure === 'token-unusable' || (position.resumeToken !== undefined && attempt >= TOKEN_ATTEMPTS && failure !== 'network')) {
    position.resumeToken = undefined;
    options.onEvent?.({ kind: 'history-lost', error });
    return timer(0, scheduler);
  }
  const delayMs = backoffDelay(attempt, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs });
  options.onEvent?.({ kind: 'reconnecting', error, attempt, delayMs });
  return timer(delayMs, scheduler);
}
