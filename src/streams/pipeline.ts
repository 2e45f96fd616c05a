// The processor as a pure function of its sources and sinks; it knows nothing of MongoDB or PostgreSQL, so
// marble tests drive it on virtual time.
import {
  asyncScheduler,
  catchError,
  concat,
  concatMap,
  defer,
  EMPTY,
  finalize,
  ignoreElements,
  map,
  merge,
  type Observable,
  type ObservableInput,
  of,
  reduce,
  retry,
  type SchedulerLike,
  switchMap,
  tap,
  throwError,
  timer,
} from 'rxjs';
import { isPermanent, isUnavailable } from '../domain/errors.js';
import type { Outcome } from '../domain/outcome.js';
import { backoffDelay } from './backoff.js';
import { FairQueue, smallLine } from './fair-queue.js';
import { groupCommit, type Yielding } from './group-commit.js';
import { InFlight } from './in-flight.js';

/** A raw document id that may need processing, and where it was seen. */
export interface Candidate {
  id: string;
  /** The document's tenant, when the source knows it: batches serve tenants in turn (FairQueue). */
  tenantId?: string;
  /** The document's hash slot, from the change stream: a processor sharing the slots takes its own only. */
  slot?: number;
  via: 'stream' | 'sweep';
  /** The change-stream resume token of the event, for checkpoints. */
  resumeToken?: unknown;
  /** The event's cluster time, for the stream's lag. */
  at?: Date;
}

/** What the pipeline needs to know of a claimed raw document. */
export interface ClaimedDoc {
  id: string;
  attempts: number;
  receivedAt: Date;
}

export type { Outcome };

export interface Failure<D> {
  doc: D;
  error: string;
  outcome: Exclude<Outcome, 'processed'>;
}

export interface LogEntry<D extends ClaimedDoc = ClaimedDoc> {
  doc: D;
  id: string;
  outcome: Outcome;
  batchId: string;
  durationMs: number;
  latencyMs: number;
  error?: string;
}

export interface BatchOutcome {
  batchId: string;
  candidates: number;
  claimed: number;
  processed: number;
  failed: number;
  dead: number;
  durationMs: number;
  /** Whether this batch stored a resume token. */
  checkpointed: boolean;
  /** Claimed documents that the sweep offered before the change stream did. */
  sweepHits: number;
  /** Set when a stage failed beyond retry: nothing after it ran, the documents stay unprocessed. */
  error?: string;
}

export interface Sources {
  changes$: Observable<Candidate>;
  sweep$: Observable<Candidate>;
}

/**
 * The side effects, each called in one visible place. Each returns an ObservableInput: real adapters
 * return promises, marble tests cold observables. Errors other than PermanentError are retried, except the
 * write's: there only an UnavailableError is retried, any other failure is charged to its documents.
 */
export interface Sinks<D extends ClaimedDoc, R> {
  /**
   * Atomically leases the ids not yet processed nor leased elsewhere; returns the documents now held. An
   * express batch's claim holds an eighth of the byte budget (it runs beside the BATCH_CONCURRENCY slots).
   */
  claim(ids: string[], options: { express: boolean }): ObservableInput<D[]>;
  /** Maps a raw document to its row; throws for a document that cannot be transformed. */
  transform(doc: D): R;
  /**
   * Writes all rows in one transaction, idempotently; an UnavailableError means the database is away (the
   * write is retried), any other error that some row failed (the batch is split to find it).
   */
  writeBatch(rows: R[]): ObservableInput<unknown>;
  markProcessed(docs: D[]): ObservableInput<unknown>;
  markFailed(failures: Array<Failure<D>>): ObservableInput<unknown>;
  log(entries: Array<LogEntry<D>>): ObservableInput<unknown>;
  checkpoint(resumeToken: unknown): ObservableInput<unknown>;
}

export interface PipelineOptions {
  batchMaxSize: number;
  /**
   * The most candidates the next batch takes, asked for each batch (never above batchMaxSize, never
   * below 1): the processor lowers it while documents are large, so a batch's documents fit its byte budget.
   */
  batchSizeLimit?: () => number;
  batchMaxWaitMs: number;
  /** Batches worked on at once. */
  concurrency: number;
  /**
   * Batches serve the tenants with candidates waiting in turn, each a share by its weight (TENANT_WEIGHTS);
   * without it, first come, first served.
   */
  fair?: {
    weightOf(tenantId: string): number;
    /** While express batches run, the other batches' slots (and a fifth of batchMaxSize each); default all. */
    backlogSlots?: number;
  };
  /** A document failing its maxAttempts-th attempt is dead-lettered. */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /**
   * Candidates held (buffered or in flight) at most; more are dropped, not lost: they stay unprocessed
   * in MongoDB and the sweep finds them again. This bounds memory whatever the backlog. Ignored with inFlight.
   */
  maxInFlight?: number;
  batchIdPrefix?: string;
  /**
   * A batch stores its resume token only when the last one stored is at least this old (default 0: after
   * every batch). At 1,000 documents a second a batch leaves every 20 ms or so, and its checkpoint was one of
   * its five MongoDB commands; a token a second behind costs a restarted processor a second of events read
   * again, whose documents, already processed, no claim takes. An idle stream's heartbeat stores the rest.
   */
  checkpointEveryMs?: number;
  /** The candidates held; pass the owner to share it, e.g. with the sources' room and an idle check. */
  inFlight?: InFlight;
  scheduler?: SchedulerLike;
  random?: () => number;
  onRetry?: (stage: string, error: unknown, attempt: number, delayMs: number) => void;
  /** A stage that was retried has stopped retrying: it succeeded (`recovered`), gave up, or was unsubscribed. */
  onRetryEnded?: (stage: string, outcome: { retries: number; retriedMs: number; recovered: boolean }) => void;
}

/** A write split until its unacceptable rows stand alone: what committed, and what failed. */
interface Isolated<D> {
  written: D[];
  failures: Array<Failure<D>>;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** What the batches of one pipeline share: the sinks, the options, the clock, and the order of checkpoints. */
interface Run<D extends ClaimedDoc, R> {
  sinks: Sinks<D, R>;
  options: PipelineOptions;
  scheduler: SchedulerLike;
  prefix: string;
  /**
   * Batches started, the last one that stored a resume token (an older batch never stores one after it), when
   * it did, and the newest batch since that left its token unstored (stored when the pipeline completes).
   */
  seq: { started: number; checkpointed: number; checkpointedAt: number; skipped?: { seq: number; resumeToken: unknown } };
}

/** One batch as it goes: its candidates, and what is already recorded, so a batch failing late reports truthfully. */
interface Batch {
  seq: number;
  batchId: string;
  startedAt: number;
  candidates: Candidate[];
  resumeToken: unknown;
  recorded: { claimed: number; processed: number; failed: number; dead: number; sweepHits: number };
}

/**
 * Candidates from the change stream and the sweep are merged, admitted once while there is room, buffered by
 * time and count, and each batch goes claim -> transform -> write -> mark -> log -> checkpoint.
 */
export function pipeline<D extends ClaimedDoc, R>(
  sources: Sources,
  sinks: Sinks<D, R>,
  options: PipelineOptions,
): Observable<BatchOutcome> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const inFlight = options.inFlight ?? new InFlight(options.maxInFlight ?? options.batchMaxSize * (options.concurrency + 2));
  const run: Run<D, R> = {
    sinks,
    options,
    scheduler,
    prefix: options.batchIdPrefix ?? 'batch',
    seq: { started: 0, checkpointed: 0, checkpointedAt: Number.NEGATIVE_INFINITY },
  };
  const sizeLimit = options.batchSizeLimit;
  const work = (express: boolean) => (candidates: Candidate[]) =>
    // Whatever happened, these ids may be offered again (if still unprocessed, the sweep will).
    runBatch(run, candidates, express).pipe(finalize(() => inFlight.settle(candidates.map((candidate) => candidate.id))));
  return merge(sources.changes$, sources.sweep$).pipe(
    admit(inFlight),
    groupCommit(work(false), {
      // With fair share, quiet tenants' documents need not wait for a slot: one small batch beside them,
      // whose claim holds an eighth of the byte budget.
      ...(options.fair ? { express: { maxSize: smallLine(options.batchMaxSize), work: work(true), yielding: yieldingOf(options) } } : {}),
      maxSize: sizeLimit ? () => Math.max(1, Math.min(options.batchMaxSize, sizeLimit())) : options.batchMaxSize,
      maxWaitMs: options.batchMaxWaitMs,
      concurrency: options.concurrency,
      scheduler,
      // Tenants in turn: a quiet tenant's candidates are not queued behind another's backlog.
      ...(options.fair ? { queue: new FairQueue((candidate: Candidate) => candidate.tenantId ?? '', options.fair.weightOf) } : {}),
    }),
    // A stop drains the batches in flight; the newest token they left unstored is stored last.
    (outcomes$) =>
      concat(
        outcomes$,
        defer(() => lastCheckpoint(run)),
      ),
  );
}

/** The newest token a batch left unstored (checkpointEveryMs), if no newer one was stored since; emits nothing. */
function lastCheckpoint<D extends ClaimedDoc, R>(run: Run<D, R>): Observable<never> {
  const skipped = run.seq.skipped;
  if (skipped === undefined || skipped.seq <= run.seq.checkpointed) return EMPTY;
  return storeToken(run, skipped.seq, skipped.resumeToken).pipe(ignoreElements());
}

/** Stores batch `seq`'s token: from now on no older batch stores one, and the next waits checkpointEveryMs. */
function storeToken<D extends ClaimedDoc, R>(run: Run<D, R>, seq: number, resumeToken: unknown): Observable<unknown> {
  run.seq.checkpointed = seq;
  run.seq.checkpointedAt = run.scheduler.now();
  return withRetry(run, 'checkpoint', () => run.sinks.checkpoint(resumeToken));
}

/** How long a backlog keeps yielding after the last express batch began. */
const YIELD_FOR_MS = 3_000;

/** What the other batches keep while a quiet tenant's express batches run: fewer slots and smaller batches. */
const yieldingOf = (options: PipelineOptions): Yielding | undefined =>
  options.fair?.backlogSlots === undefined || options.fair.backlogSlots >= options.concurrency
    ? undefined
    : { slots: options.fair.backlogSlots, maxSize: Math.max(1, Math.floor(options.batchMaxSize / 5)), forMs: YIELD_FOR_MS };

/** The one place a candidate enters the pipeline's care: once, and only while there is room. */
const admit = (inFlight: InFlight) =>
  concatMap((candidate: Candidate) => (inFlight.admit(candidate.id, candidate.tenantId) ? of(candidate) : EMPTY));

/**
 * Runs one sink call, retrying with backoff and jitter, without a cap, every error `retryable` accepts (all
 * but a PermanentError, unless the stage says otherwise): such a retry is about the stage, not about one
 * document, so it charges no attempt. onRetry and onRetryEnded make it visible (readiness, metrics).
 */
function withRetry<D extends ClaimedDoc, R, T>(
  run: Run<D, R>,
  stage: string,
  call: () => ObservableInput<T>,
  retryable: (error: unknown) => boolean = (error) => !isPermanent(error),
): Observable<T> {
  const { options, scheduler } = run;
  return defer(() => {
    let retries = 0;
    let since = 0;
    let recovered = false;
    return defer(call).pipe(
      retry({
        delay: (error, attempt) => {
          if (!retryable(error)) return throwError(() => error);
          if (retries === 0) since = scheduler.now();
          retries = attempt;
          const delayMs = backoffDelay(attempt, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs, random: options.random });
          options.onRetry?.(stage, error, attempt, delayMs);
          return timer(delayMs, scheduler);
        },
      }),
      tap({ complete: () => (recovered = true) }),
      finalize(() => {
        if (retries > 0) options.onRetryEnded?.(stage, { retries, retriedMs: scheduler.now() - since, recovered });
      }),
    );
  });
}

/**
 * A failed attempt: dead at its maxAttempts-th attempt, or at once when the mapper classified the failure as
 * permanent (the payload itself is refused: no retry can change that; a replay after a fix can).
 */
const failureOf = <D extends ClaimedDoc>(maxAttempts: number, doc: D, error: string, permanent = false): Failure<D> => ({
  doc,
  error,
  outcome: permanent || doc.attempts + 1 >= maxAttempts ? 'dead' : 'failed',
});

/** One batch: claim, transform, write, then record; failing beyond retry, it ends with what was recorded. */
function runBatch<D extends ClaimedDoc, R>(run: Run<D, R>, candidates: Candidate[], express = false): Observable<BatchOutcome> {
  const seq = ++run.seq.started;
  const batch: Batch = {
    seq,
    batchId: `${run.prefix}-${seq}`,
    startedAt: run.scheduler.now(),
    candidates,
    resumeToken: candidates.findLast((candidate) => candidate.via === 'stream' && candidate.resumeToken !== undefined)?.resumeToken,
    recorded: { claimed: 0, processed: 0, failed: 0, dead: 0, sweepHits: 0 },
  };
  const viaSweep = new Set(candidates.filter((candidate) => candidate.via === 'sweep').map((candidate) => candidate.id));
  return withRetry(run, 'claim', () =>
    run.sinks.claim(
      candidates.map((candidate) => candidate.id),
      { express },
    ),
  ).pipe(
    switchMap((docs) => {
      batch.recorded.claimed = docs.length;
      batch.recorded.sweepHits = docs.filter((doc) => viaSweep.has(doc.id)).length;
      const { items, failures } = transformAll(run, docs);
      return writeIsolating(run, items).pipe(
        switchMap(({ written, failures: writeFailures }) => record(run, batch, written, [...failures, ...writeFailures])),
      );
    }),
    // One batch failing beyond retry must not stop the pipeline: its documents stay unprocessed and
    // their leases expire, so the sweep offers them again.
    catchError((error: unknown) => of(outcomeOf(run, batch, false, messageOf(error)))),
  );
}

/** Each claimed document mapped to its row, or failed with the mapper's reason; one bad document fails alone. */
function transformAll<D extends ClaimedDoc, R>(run: Run<D, R>, docs: D[]) {
  const items: Array<{ doc: D; row: R }> = [];
  const failures: Array<Failure<D>> = [];
  for (const doc of docs) {
    try {
      items.push({ doc, row: run.sinks.transform(doc) });
    } catch (error) {
      failures.push(failureOf(run.options.maxAttempts, doc, messageOf(error), isPermanent(error)));
    }
  }
  return { items, failures };
}

/**
 * Writes rows. The database unavailable (isUnavailable) is the stage's trouble: retried as long as it lasts,
 * charging no document. Any other failure, whatever its class (a row refused, a trigger's exception, a plain
 * Error of the writer's), is some document's: the batch is halved until the failing documents stand alone, and
 * each is charged an attempt (dead at maxAttempts), so no document is retried for ever and the others commit.
 */
function writeIsolating<D extends ClaimedDoc, R>(run: Run<D, R>, items: Array<{ doc: D; row: R }>): Observable<Isolated<D>> {
  if (items.length === 0) return of({ written: [], failures: [] });
  return withRetry(run, 'write', () => run.sinks.writeBatch(items.map((item) => item.row)), isUnavailable).pipe(
    map((): Isolated<D> => ({ written: items.map((item) => item.doc), failures: [] })),
    catchError((error: unknown) => {
      if (items.length === 1) return of({ written: [], failures: [failureOf(run.options.maxAttempts, items[0]!.doc, messageOf(error))] });
      const middle = Math.ceil(items.length / 2);
      return concat(writeIsolating(run, items.slice(0, middle)), writeIsolating(run, items.slice(middle))).pipe(
        reduce((all, part) => ({ written: [...all.written, ...part.written], failures: [...all.failures, ...part.failures] })),
      );
    }),
  );
}

/** Marks, logs and checkpoints what the write decided, in that order; the outcome once every stage completed. */
function record<D extends ClaimedDoc, R>(
  run: Run<D, R>,
  batch: Batch,
  written: D[],
  failures: Array<Failure<D>>,
): Observable<BatchOutcome> {
  const { sinks } = run;
  const entries = logEntries(run, batch, written, failures);
  const failed = failures.filter((f) => f.outcome === 'failed').length;
  let checkpointed = false;
  return concat(
    written.length > 0
      ? withRetry(run, 'mark-processed', () => sinks.markProcessed(written)).pipe(
          tap({ complete: () => (batch.recorded.processed = written.length) }),
        )
      : EMPTY,
    failures.length > 0
      ? withRetry(run, 'mark-failed', () => sinks.markFailed(failures)).pipe(
          tap({
            complete: () => {
              batch.recorded.failed = failed;
              batch.recorded.dead = failures.length - failed;
            },
          }),
        )
      : EMPTY,
    entries.length > 0 ? withRetry(run, 'log', () => sinks.log(entries)) : EMPTY,
    // Decided once the batch is recorded: a newer batch that stored its token meanwhile, or one stored less
    // than checkpointEveryMs ago, leaves this batch's token unstored.
    defer(() => {
      if (!checkpointDue(run, batch)) {
        const newer = batch.resumeToken !== undefined && batch.seq > Math.max(run.seq.checkpointed, run.seq.skipped?.seq ?? 0);
        if (newer) run.seq.skipped = { seq: batch.seq, resumeToken: batch.resumeToken };
        return EMPTY;
      }
      checkpointed = true;
      return storeToken(run, batch.seq, batch.resumeToken);
    }),
  ).pipe(
    reduce(() => undefined, undefined),
    // Every stage has completed, so what is recorded is the whole outcome.
    map(() => outcomeOf(run, batch, checkpointed)),
  );
}

/** Whether the batch stores its resume token: it has one, no newer batch stored one, the last is old enough. */
const checkpointDue = <D extends ClaimedDoc, R>(run: Run<D, R>, batch: Batch) =>
  batch.resumeToken !== undefined &&
  batch.seq > run.seq.checkpointed &&
  run.scheduler.now() - run.seq.checkpointedAt >= (run.options.checkpointEveryMs ?? 0);

/** One processing_logs entry per document: processed, or failed/dead with the reason. */
function logEntries<D extends ClaimedDoc, R>(run: Run<D, R>, batch: Batch, written: D[], failures: Array<Failure<D>>): Array<LogEntry<D>> {
  const now = run.scheduler.now();
  const durationMs = now - batch.startedAt;
  const entry = (doc: D, outcome: Outcome, error?: string): LogEntry<D> => ({
    doc,
    id: doc.id,
    outcome,
    batchId: batch.batchId,
    durationMs,
    latencyMs: now - doc.receivedAt.getTime(),
    ...(error === undefined ? {} : { error }),
  });
  return [...written.map((doc) => entry(doc, 'processed')), ...failures.map(({ doc, outcome, error }) => entry(doc, outcome, error))];
}

function outcomeOf<D extends ClaimedDoc, R>(run: Run<D, R>, batch: Batch, checkpointed: boolean, error?: string): BatchOutcome {
  return {
    batchId: batch.batchId,
    candidates: batch.candidates.length,
    ...batch.recorded,
    durationMs: run.scheduler.now() - batch.startedAt,
    checkpointed,
    ...(error === undefined ? {} : { error }),
  };
}
