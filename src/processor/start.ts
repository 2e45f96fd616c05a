// The processor's lifecycle: load the checkpoint, wire sources and sinks to the pure pipeline, report through
// its events, and stop() with a drain that takes no new work, commits what it holds and gives leases back.
import { getHeapStatistics } from 'node:v8';
import { type Observable, Subject, type Subscription, takeUntil } from 'rxjs';
import type { ProcessorSettings } from '../config/config.js';
import type { Logger } from '../config/logger.js';
import { MONGO_DEADLINES_MS, withinDeadline } from '../db/mongo.js';
import type { Database } from '../db/postgres.js';
import { loadCheckpoint, saveCheckpoint } from '../raw-store/checkpoint.js';
import type { MongoCollections } from '../raw-store/collections.js';
import { releaseLeases } from '../raw-store/release-leases.js';
import { InFlight } from '../streams/in-flight.js';
import { type BatchOutcome, pipeline } from '../streams/pipeline.js';
import { BatchSizer } from './batch-sizer.js';
import { ProcessorEvents } from './events.js';
import { Leases } from './leases.js';
import { logProcessorEvents } from './log-events.js';
import { joinGroup } from './membership.js';
import { memoryPlan } from './memory-bound.js';
import { processorSinks } from './sinks.js';
import { SlotOwner } from './slot-owner.js';
import { changes$, type SourceOptions, swept$ } from './sources.js';
import { TenantsSeen } from './tenants-seen.js';

export interface Processor {
  /** Subscribe before or after start; `started` has already been emitted once this resolves. */
  events: ProcessorEvents;
  /** Resolves once the drain has finished (or the deadline cut it short). */
  stop(): Promise<{ drained: boolean }>;
}

export async function startProcessor(
  mongo: MongoCollections,
  db: Database,
  settings: ProcessorSettings,
  logger: Logger,
  events = new ProcessorEvents(),
): Promise<Processor> {
  const worker = settings.workerId;
  logProcessorEvents(events, logger.child({ component: 'processor', worker }));
  const stopping$ = new Subject<void>();

  const { checkpoint, save, lastCheckpointAt } = await checkpoints(mongo, settings, events);

  const { pageSize, inFlight, fair, leases, sizer, slots } = processorState(settings);
  const membership = await joinGroup({ mongo, group: settings.group, owner: slots, events });
  const sources: SourceOptions = {
    slots,
    mongo,
    settings,
    events,
    resumeToken: checkpoint?.resumeToken,
    inFlight,
    pageSize,
    fair,
    tenantsSeen: new TenantsSeen(),
    saveCheckpoint: save,
    lastCheckpointAt,
  };
  const outcomes$ = pipeline(
    { changes$: changes$(sources).pipe(takeUntil(stopping$)), sweep$: swept$(sources).pipe(takeUntil(stopping$)) },
    processorSinks({ mongo, db, settings, leases, sizer, saveCheckpoint: save }),
    {
      batchMaxSize: settings.batchMaxSize,
      batchSizeLimit: () => sizer.limit(),
      batchMaxWaitMs: settings.batchMaxWaitMs,
      concurrency: settings.batchConcurrency,
      maxAttempts: settings.maxAttempts,
      retryBaseMs: settings.retryBaseMs,
      retryMaxMs: settings.retryMaxMs,
      inFlight,
      fair,
      batchIdPrefix: `${worker}-${Date.now().toString(36)}`,
      checkpointEveryMs: Math.min(CHECKPOINT_EVERY_MS, settings.checkpointHeartbeatMs),
      onRetry: (stage, error, attempt, delayMs) => events.emit('stage-retry', { stage, error, attempt, delayMs }),
      onRetryEnded: (stage, outcome) => events.emit('stage-retry-ended', { stage, ...outcome }),
    },
  );
  const { done, subscription } = runPipeline(outcomes$, events);
  events.emit('started', {
    mode: settings.changeStream ? 'change-stream+sweep' : 'sweep-only',
    resumed: checkpoint !== undefined,
    lastCheckpointAt: lastCheckpointAt(),
    pageSize,
    memory: memoryPlan(settings, getHeapStatistics().heap_size_limit),
  });

  return { events, stop: () => drainAndStop({ stopping$, done, subscription, leases, mongo, settings, events, membership }) };
}

/** While batches flow, the resume token is stored at most once a second (docs/processor.md). */
const CHECKPOINT_EVERY_MS = 1_000;

/**
 * The processor's state, each with one owner: the candidates in the pipeline, the leases this worker holds,
 * the byte budget that sizes batches, and its share of the hash slots.
 */
function processorState(settings: ProcessorSettings) {
  const pageSize = settings.batchMaxSize * (settings.batchConcurrency + 2);
  // With fair share, the tenants holding candidates share the page less a twentieth kept for a tenant
  // arriving, so another's fresh documents always find room (docs/processor.md).
  const inFlight = new InFlight(pageSize, settings.fairShare ? Math.ceil(pageSize / 20) : 0);
  const fair = settings.fairShare
    ? { weightOf: (tenantId: string) => settings.tenantWeights.get(tenantId) ?? 1, backlogSlots: settings.fairShareBacklogSlots }
    : undefined;
  const leases = new Leases();
  const sizer = new BatchSizer(settings.batchMaxSize, settings.batchMaxBytes);
  const slots = new SlotOwner(settings.workerId);
  return { pageSize, inFlight, fair, leases, sizer, slots };
}

/** Runs the pipeline, each outcome reported as an event; `done` resolves when it ends, however it ends. */
function runPipeline(outcomes$: Observable<BatchOutcome>, events: ProcessorEvents) {
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const subscription = outcomes$.subscribe({
    next: (outcome) => events.emit('batch', outcome),
    error: (error: unknown) => {
      events.emit('pipeline-failed', { error });
      finished();
    },
    complete: () => finished(),
  });
  return { done, subscription };
}

/** The stored resume token, and how this worker stores the next one (reported through its events). */
async function checkpoints(mongo: MongoCollections, settings: ProcessorSettings, events: ProcessorEvents) {
  const checkpoint = settings.changeStream ? await loadCheckpoint(mongo.checkpoints, settings.group) : undefined;
  let lastAt = checkpoint?.at ?? null;
  const save = async (token: unknown) => {
    await withinDeadline(MONGO_DEADLINES_MS.processor, (bound) =>
      saveCheckpoint(mongo.checkpoints, settings.group, token, settings.workerId, bound),
    );
    lastAt = new Date();
    events.emit('checkpoint', { at: lastAt });
  };
  return { checkpoint, save, lastCheckpointAt: () => lastAt };
}

/** Takes no new work, waits for the batches in flight (up to SHUTDOWN_TIMEOUT_MS), gives back the leases held. */
async function drainAndStop({
  stopping$,
  done,
  subscription,
  leases,
  mongo,
  settings,
  events,
  membership,
}: {
  membership: { leave(): Promise<void> };
  stopping$: Subject<void>;
  done: Promise<void>;
  subscription: Subscription;
  leases: Leases;
  mongo: MongoCollections;
  settings: Pick<ProcessorSettings, 'shutdownTimeoutMs' | 'workerId'>;
  events: ProcessorEvents;
}): Promise<{ drained: boolean }> {
  stopping$.next();
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    done.then(() => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), settings.shutdownTimeoutMs))),
  ]);
  clearTimeout(timer);
  subscription.unsubscribe();
  // Its slots go to the others at their next renewal, then the leases it held (they find those at once).
  await membership.leave();
  const released = await releaseLeases(mongo.raw, leases.held(), settings.workerId).catch(() => 0);
  events.emit('stopped', { drained, released });
  return { drained };
}
