// Where candidates come from: the change stream on raw_transactions (resuming after the stored token)
// and the polling sweep over the raw store, both reporting through the processor's events.

import { type Observable, Subject, tap } from 'rxjs';
import type { ProcessorSettings } from '../config/config.js';
import { classifyChangeStreamError } from '../db/mongo-errors.js';
import type { MongoCollections } from '../raw-store/collections.js';
import { findWaitingIds } from '../raw-store/find-waiting.js';
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
  inFlight: Pick<InFlight, 'room' | 'isBusy'>;
  pageSize: number;
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

export function swept$({ mongo, settings, events, inFlight, pageSize }: SourceOptions): Observable<Candidate> {
  return sweep$({
    findWaiting: (limit) => findWaitingIds(mongo.raw, limit),
    intervalMs: settings.pollIntervalMs,
    pageSize,
    backlogIntervalMs: Math.max(settings.batchMaxWaitMs, 100),
    room: () => inFlight.room(),
    onError: (error) => events.emit('sweep-failed', { error }),
  });
}
