// Where candidates come from: the change stream on raw_transactions (resuming after the stored token)
// and the polling sweep over the raw store, both reporting through the processor's events.

import { type Observable, Subject, tap } from 'rxjs';
import type { ProcessorSettings } from '../config/config.js';
import { classifyChangeStreamError } from '../db/mongo-errors.js';
import type { MongoCollections } from '../raw-store/collections.js';
import { findWaitingFair, findWaitingIds, findWaitingTenants } from '../raw-store/find-waiting.js';
import { watchInserts } from '../raw-store/watch-inserts.js';
import { changeStream$ } from '../streams/change-stream.js';
import type { InFlight } from '../streams/in-flight.js';
import type { Candidate } from '../streams/pipeline.js';
import { sweep$ } from '../streams/sweep.js';
import type { ProcessorEvents } from './events.js';

export interface SourceOptions {
  mongo: MongoCollections;
  settings: Pick<
    ProcessorSettings,
    'changeStream' | 'retryBaseMs' | 'retryMaxMs' | 'checkpointHeartbeatMs' | 'pollIntervalMs' | 'batchMaxWaitMs'
  >;
  events: ProcessorEvents;
  /** The resume token stored by the last run, if any. */
  resumeToken: unknown;
  /** Candidates held by the pipeline now; the sources take no more than the room left. */
  inFlight: Pick<InFlight, 'room' | 'roomFor' | 'isBusy'>;
  pageSize: number;
  /** The sweep serves tenants in turn, each a share of a page by its weight. */
  fair: { weightOf(tenantId: string): number } | undefined;
  saveCheckpoint(resumeToken: unknown): Promise<void>;
  /** When the resume token was last stored, for the warning about a gap. */
  lastCheckpointAt(): Date | null;
}

export function changes$({
  mongo,
  settings,
  events,
  resumeToken,
  inFlight,
  saveCheckpoint,
  lastCheckpointAt,
}: SourceOptions): Observable<Candidate> {
  if (!settings.changeStream) return new Subject<never>();
  return changeStream$({
    classify: classifyChangeStreamError,
    open: (token) => watchInserts(mongo.raw, token) as never,
    resumeToken,
    retryBaseMs: settings.retryBaseMs,
    retryMaxMs: settings.retryMaxMs,
    heartbeat: { intervalMs: settings.checkpointHeartbeatMs, isIdle: () => !inFlight.isBusy(), save: saveCheckpoint },
    // Backpressure: read the stream only while the pipeline has room, instead of dropping events for the sweep.
    room: () => inFlight.room(),
    onEvent: (event) => {
      switch (event.kind) {
        case 'unsupported':
          events.emit('mode-changed', { mode: 'sweep-only', error: event.error });
          break;
        case 'history-lost':
          events.emit('stream-restarted', { error: event.error, lastCheckpointAt: lastCheckpointAt() });
          break;
        case 'reconnecting':
          events.emit('stream-reconnecting', { error: event.error, attempt: event.attempt, delayMs: event.delayMs });
          break;
        case 'heartbeat-failed':
          events.emit('heartbeat-failed', { error: event.error });
          break;
      }
    },
  }).pipe(
    tap((candidate) => {
      if (candidate.at) events.emit('change-seen', { at: candidate.at });
    }),
  );
}

/** How stale the sweep's list of tenants with waiting documents may be while a backlog lasts. */
const TENANTS_REFRESH_MS = 250;

export function swept$({ mongo, settings, events, inFlight, pageSize, fair }: SourceOptions): Observable<Candidate> {
  // The tenants with waiting documents: asked again after a page that found the backlog done (the sweep's
  // quiet rhythm, once a poll interval) and at least every TENANTS_REFRESH_MS during a backlog, so that a
  // tenant whose documents arrive while another's backlog drains is among the next pages' within that
  // (on mongod a distinct scan: one index key per tenant). Pages rotate through them.
  let tenants: { at: number; list: Promise<string[]> } | undefined;
  let page = 0;
  const waitingTenants = () => {
    if (!tenants || Date.now() - tenants.at >= Math.min(settings.pollIntervalMs, TENANTS_REFRESH_MS)) {
      const list = findWaitingTenants(mongo.raw);
      tenants = { at: Date.now(), list };
      list.catch(() => (tenants = undefined));
    }
    return tenants.list;
  };
  const fairPage = async (limit: number, weightOf: (tenantId: string) => number) => {
    const found = await findWaitingFair(mongo.raw, {
      limit,
      tenants: await waitingTenants(),
      start: page++,
      roomFor: (tenant) => inFlight.roomFor(tenant),
      weightOf,
    });
    if (!found.full) tenants = undefined;
    return found;
  };
  return sweep$({
    findWaiting: (limit) => (fair ? fairPage(limit, fair.weightOf) : findWaitingIds(mongo.raw, limit)),
    intervalMs: settings.pollIntervalMs,
    pageSize,
    backlogIntervalMs: Math.max(settings.batchMaxWaitMs, 100),
    room: () => inFlight.room(),
    onError: (error) => events.emit('sweep-failed', { error }),
  });
}
