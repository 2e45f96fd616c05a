// Where candidates come from: the change stream on raw_transactions (resuming after the stored token)
// and the polling sweep over the raw store, both reporting through the processor's events.

import { concatMap, EMPTY, type Observable, of, Subject } from 'rxjs';
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
import type { SlotOwner } from './slot-owner.js';
import { SweepCursor, WaitingTenants } from './sweep-cursor.js';
import type { TenantsSeen } from './tenants-seen.js';

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
  /** The sweep reaches every tenant with documents waiting, not only the oldest documents' (fair share). */
  fair: { weightOf(tenantId: string): number } | undefined;
  /** Tenants the change stream has shown, and when last: the sweep asks for theirs on their own at once. */
  tenantsSeen: Pick<TenantsSeen, 'see' | 'recent'>;
  /** This processor's share of the hash slots: the stream passes on its own documents, the sweep asks for them. */
  slots: Pick<SlotOwner, 'owns' | 'slots'>;
  saveCheckpoint(resumeToken: unknown): Promise<void>;
  /** When the resume token was last stored, for the warning about a gap. */
  lastCheckpointAt(): Date | null;
}

export function changes$({
  slots,
  tenantsSeen,
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
    // Half the batch wait: a document waits at most that much longer to be read, and a batch gathers over
    // BATCH_MAX_WAIT_MS anyway; at 1,000/s one getMore brings about ten events instead of one.
    gatherMs: Math.floor(settings.batchMaxWaitMs / 2),
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
    // The stream's one place of side effects: report the sighting and remember the tenant; then pass on only
    // this processor's slots (another processor sees the same event and claims the document; claiming it here
    // too would only race it, a claim that gets nothing).
    concatMap((candidate) => {
      if (candidate.at) events.emit('change-seen', { at: candidate.at });
      if (candidate.tenantId !== undefined) tenantsSeen.see(candidate.tenantId);
      return slots.owns(candidate.slot) ? of(candidate) : EMPTY;
    }),
  );
}

/**
 * How often a page of the sweep first asks which tenants have documents waiting, at most: each page while a
 * backlog lasts (they come every 100 ms), each poll otherwise.
 */
const DISTINCT_EVERY_MS = 100;

export function swept$({ mongo, settings, events, inFlight, pageSize, fair, tenantsSeen, slots }: SourceOptions): Observable<Candidate> {
  // The tenants known to have documents waiting: a distinct at the head of a page (on mongod a distinct
  // scan, one index key per tenant, no document read; on the development MongoDB one document per tenant),
  // so a tenant whose change events stand behind another's backlog in the stream (which stops reading while
  // the pipeline is full) is found by the next page; and every tenant the change stream has shown lately.
  const waiting = new WaitingTenants(() => findWaitingTenants(mongo.raw), DISTINCT_EVERY_MS);
  const knownTenants = async () => [...new Set([...(await waiting.list()), ...tenantsSeen.recent()])].sort();
  // Where the pass over a backlog stands; a short page, or a poll interval since the pass began, starts
  // again from the oldest.
  const cursor = new SweepCursor(settings.pollIntervalMs);
  const fairPage = async (limit: number) => {
    const found = await findWaitingFair(mongo.raw, {
      limit,
      tenants: await knownTenants(),
      start: cursor.nextPage(),
      roomFor: (tenant) => inFlight.roomFor(tenant),
      slots: slots.slots(),
      after: cursor.after(),
    });
    cursor.advance(found.full, found.through);
    return found;
  };
  const plainPage = async (limit: number) => {
    const ids = await findWaitingIds(mongo.raw, limit, { slots: slots.slots(), after: cursor.after() });
    cursor.advance(ids.length >= limit, ids.at(-1));
    return ids;
  };
  return sweep$({
    findWaiting: (limit) => (fair ? fairPage(limit) : plainPage(limit)),
    intervalMs: settings.pollIntervalMs,
    pageSize,
    backlogIntervalMs: Math.max(settings.batchMaxWaitMs, 100),
    room: () => inFlight.room(),
    onError: (error) => events.emit('sweep-failed', { error }),
  });
}
