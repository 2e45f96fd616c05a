// Wires the pure pipeline to MongoDB and PostgreSQL: sources from the change stream and the sweep, sinks
// from the adapters in this folder. Returns a handle whose stop() drains gracefully: no new work is
// taken, buffered candidates are flushed and committed, leases still held are given back.
import { Subject, takeUntil, tap, type Observable } from 'rxjs';
import type { Logger } from '../config/logger.js';
import type { MongoConnection } from '../db/mongo.js';
import type { Database } from '../db/postgres.js';
import { changeStream$ } from '../streams/change-stream.js';
import { pipeline, type BatchOutcome } from '../streams/pipeline.js';
import { sweep$ } from '../streams/sweep.js';
import { claimBatch, claimableFilter, releaseLeases, type ClaimedRaw } from './claim-batch.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { markFailed } from './mark-failed.js';
import { markProcessed } from './mark-processed.js';
import { transformRaw } from './transform/index.js';
import { writeTransactions } from './transactions-writer.js';
import { writeLogs } from './write-logs.js';

export interface ProcessorSettings {
  POLL_INTERVAL_MS: number;
  BATCH_MAX_WAIT_MS: number;
  BATCH_MAX_SIZE: number;
  BATCH_CONCURRENCY: number;
  LEASE_MS: number;
  MAX_ATTEMPTS: number;
  RETRY_BASE_MS: number;
  RETRY_MAX_MS: number;
  CHANGE_STREAM: 'on' | 'off';
  CHECKPOINT_HEARTBEAT_MS: number;
  PROCESSOR_GROUP: string;
  WORKER_ID: string;
  SHUTDOWN_TIMEOUT_MS: number;
}

/** Counters since start: logged, read by /metrics and /readyz, and by tests. */
export interface ProcessorStats {
  batches: number;
  processed: number;
  failed: number;
  dead: number;
  batchErrors: number;
  streamReconnects: number;
  /** Change-stream restarts without a token (token unusable): each is a gap only the sweep covers. */
  streamRestarts: number;
  /** Documents the sweep offered before the change stream did. */
  sweepHits: number;
  /** How the processor is fed: change stream and sweep, or the sweep alone. */
  mode: 'change-stream+sweep' | 'sweep-only';
  /** Cluster time of the last change event seen, and when the resume token was last stored. */
  lastEventAt: Date | null;
  lastCheckpointAt: Date | null;
}

export interface Processor {
  outcomes$: Observable<BatchOutcome>;
  stats: Readonly<ProcessorStats>;
  /** Resolves once the drain has finished (or the deadline cut it short). */
  stop(): Promise<{ drained: boolean }>;
}

export async function startProcessor(mongo: MongoConnection, db: Database, settings: ProcessorSettings, logger: Logger): Promise<Processor> {
  const log = logger.child({ component: 'processor', worker: settings.WORKER_ID });
  const worker = settings.WORKER_ID;
  const stats: ProcessorStats = {
    batches: 0,
    processed: 0,
    failed: 0,
    dead: 0,
    batchErrors: 0,
    streamReconnects: 0,
    streamRestarts: 0,
    sweepHits: 0,
    mode: settings.CHANGE_STREAM === 'on' ? 'change-stream+sweep' : 'sweep-only',
    lastEventAt: null,
    lastCheckpointAt: null,
  };
  const stopping$ = new Subject<void>();
  const held = new Set<string>();

  const checkpoint = settings.CHANGE_STREAM === 'on' ? await loadCheckpoint(mongo.checkpoints, settings.PROCESSOR_GROUP) : undefined;
  stats.lastCheckpointAt = checkpoint?.at ?? null;
  const save = async (token: unknown) => {
    await saveCheckpoint(mongo.checkpoints, settings.PROCESSOR_GROUP, token, worker);
    stats.lastCheckpointAt = new Date();
  };
  const inFlight = new Set<string>();
  const changes$ =
    settings.CHANGE_STREAM === 'on'
      ? changeStream$({
          open: (token) =>
            mongo.raw.watch([{ $match: { operationType: 'insert' } }], token === undefined ? {} : { resumeAfter: token as never }) as never,
          resumeToken: checkpoint?.resumeToken,
          retryBaseMs: settings.RETRY_BASE_MS,
          retryMaxMs: settings.RETRY_MAX_MS,
          heartbeat: { intervalMs: settings.CHECKPOINT_HEARTBEAT_MS, isIdle: () => inFlight.size === 0, save },
          onEvent: (event) => {
            switch (event.kind) {
              case 'unsupported':
                stats.mode = 'sweep-only';
                log.warn({ err: event.error }, 'change streams are unavailable on this server; running on the polling sweep alone');
                break;
              case 'history-lost':
                stats.streamRestarts++;
                log.warn(
                  { err: event.error, lastCheckpointAt: stats.lastCheckpointAt, gapMs: stats.lastCheckpointAt ? Date.now() - stats.lastCheckpointAt.getTime() : undefined },
                  'the resume token is unusable; restarting the change stream from now, the sweep covers the gap',
                );
                break;
              case 'reconnecting':
                stats.streamReconnects++;
                log.warn({ err: event.error, attempt: event.attempt, delayMs: event.delayMs }, 'change stream failed; reconnecting');
                break;
              case 'heartbeat-failed':
                log.warn({ err: event.error }, 'could not store the heartbeat checkpoint; the next one will try again');
                break;
            }
          },
        })
      : (log.info('CHANGE_STREAM=off: running on the polling sweep alone'), new Subject<never>());

  const pageSize = settings.BATCH_MAX_SIZE * (settings.BATCH_CONCURRENCY + 2);
  const swept$ = sweep$({
    findWaiting: async (limit) => {
      const docs = await mongo.raw.find(claimableFilter(new Date()), { projection: { _id: 1 }, sort: { _id: 1 }, limit }).toArray();
      return docs.map((doc) => doc._id.toHexString());
    },
    intervalMs: settings.POLL_INTERVAL_MS,
    pageSize,
    backlogIntervalMs: Math.max(settings.BATCH_MAX_WAIT_MS, 100),
    room: () => pageSize - inFlight.size,
    onError: (error) => log.warn({ err: error }, 'sweep failed; trying again next interval'),
  });

  const outcomes$ = pipeline<ClaimedRaw, ReturnType<typeof transformRaw>>(
    {
      changes$: changes$.pipe(
        tap((candidate) => {
          if (candidate.at) stats.lastEventAt = candidate.at;
        }),
        takeUntil(stopping$),
      ),
      sweep$: swept$.pipe(takeUntil(stopping$)),
    },
    {
      claim: async (ids) => {
        const docs = await claimBatch(mongo.raw, ids, { worker, leaseMs: settings.LEASE_MS });
        for (const doc of docs) held.add(doc.id);
        return docs;
      },
      transform: (doc) =>
        transformRaw({ rawId: doc.id, tenantId: doc.raw.tenantId, source: doc.raw.source, externalId: doc.raw.externalId, payload: doc.raw.payload, receivedAt: doc.receivedAt }),
      writeBatch: (rows) => writeTransactions(db, rows),
      markProcessed: async (docs) => {
        await markProcessed(mongo.raw, docs.map((doc) => doc.id));
        for (const doc of docs) held.delete(doc.id);
      },
      markFailed: async (failures) => {
        await markFailed(
          mongo.raw,
          failures.map(({ doc, error, outcome }) => ({ id: doc.id, attempts: doc.attempts, outcome, error })),
          { retryBaseMs: settings.RETRY_BASE_MS, retryMaxMs: settings.RETRY_MAX_MS },
        );
        for (const { doc } of failures) held.delete(doc.id);
      },
      log: (entries) => writeLogs(mongo.logs, entries, worker),
      checkpoint: save,
    },
    {
      batchMaxSize: settings.BATCH_MAX_SIZE,
      batchMaxWaitMs: settings.BATCH_MAX_WAIT_MS,
      concurrency: settings.BATCH_CONCURRENCY,
      maxAttempts: settings.MAX_ATTEMPTS,
      retryBaseMs: settings.RETRY_BASE_MS,
      retryMaxMs: settings.RETRY_MAX_MS,
      maxInFlight: pageSize,
      inFlight,
      batchIdPrefix: `${worker}-${Date.now().toString(36)}`,
      onRetry: (stage, error, attempt, delayMs) => log.warn({ err: error, stage, attempt, delayMs }, 'transient failure; retrying the batch stage'),
    },
  );

  const outcomesHub$ = new Subject<BatchOutcome>();
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const subscription = outcomes$.subscribe({
    next: (outcome) => {
      stats.batches++;
      stats.processed += outcome.processed;
      stats.failed += outcome.failed;
      stats.dead += outcome.dead;
      stats.sweepHits += outcome.sweepHits;
      if (outcome.error) stats.batchErrors++;
      if (outcome.error) log.warn(outcome, 'batch failed; its documents stay unprocessed for the sweep');
      else log.info(outcome, 'batch done');
      outcomesHub$.next(outcome);
    },
    error: (error: unknown) => {
      log.error({ err: error }, 'processor pipeline failed');
      outcomesHub$.error(error);
      finished();
    },
    complete: () => {
      outcomesHub$.complete();
      finished();
    },
  });
  log.info({ resumeToken: checkpoint !== undefined, changeStream: settings.CHANGE_STREAM, pageSize }, 'processor started');

  return {
    stats,
    outcomes$: outcomesHub$.asObservable(),
    stop: async () => {
      stopping$.next();
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        done.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), settings.SHUTDOWN_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
      subscription.unsubscribe();
      const released = await releaseLeases(mongo.raw, [...held], worker).catch(() => 0);
      log.info({ drained, released }, 'processor stopped');
      return { drained };
    },
  };
}

