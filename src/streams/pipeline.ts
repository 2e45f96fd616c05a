// The processor as a pure function of its sources and sinks: candidates from the change stream and the
// sweep are merged, de-duplicated against what is already in flight, buffered by time and count, and each
// batch goes claim -> transform -> write -> mark -> log -> checkpoint. It knows nothing of MongoDB or
// PostgreSQL, so marble tests drive it on virtual time.
import {
  asyncScheduler,
  catchError,
  concat,
  defer,
  EMPTY,
  filter,
  finalize,
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
import { isPermanent } from '../domain/errors.js';
import type { Outcome } from '../domain/outcome.js';
import { backoffDelay } from './backoff.js';
import { groupCommit } from './group-commit.js';

/** A raw document id that may need processing, and where it was seen. */
export interface Candidate {
  id: string;
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
 * return promises, marble tests cold observables. Errors other than PermanentError are retried.
 */
export interface Sinks<D extends ClaimedDoc, R> {
  /** Atomically leases the ids not yet processed nor leased elsewhere; returns the documents now held. */
  claim(ids: string[]): ObservableInput<D[]>;
  /** Maps a raw document to its row; throws for a document that cannot be transformed. */
  transform(doc: D): R;
  /** Writes all rows in one transaction, idempotently; a PermanentError means some row is unacceptable. */
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
  /** A document failing its maxAttempts-th attempt is dead-lettered. */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /**
   * Candidates held (buffered or in flight) at most; more are dropped, not lost: they stay unprocessed
   * in MongoDB and the sweep finds them again. This bounds memory whatever the backlog.
   */
  maxInFlight?: number;
  batchIdPrefix?: string;
  /** The ids held (buffered or in flight); pass a set to watch it, e.g. to tell when the pipeline is idle. */
  inFlight?: Set<string>;
  scheduler?: SchedulerLike;
  random?: () => number;
  onRetry?: (stage: string, error: unknown, attempt: number, delayMs: number) => void;
}

/** A write split until its unacceptable rows stand alone: what committed, and what failed. */
interface Isolated<D> {
  written: D[];
  failures: Array<Failure<D>>;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function pipeline<D extends ClaimedDoc, R>(
  sources: Sources,
  sinks: Sinks<D, R>,
  options: PipelineOptions,
): Observable<BatchOutcome> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const maxInFlight = options.maxInFlight ?? options.batchMaxSize * (options.concurrency + 2);
  const prefix = options.batchIdPrefix ?? 'batch';
  const sizeLimit = options.batchSizeLimit;
  const inFlight = options.inFlight ?? new Set<string>();
  let batchSeq = 0;
  let lastCheckpointedSeq = 0;

  /** Runs one sink call, retrying everything but a PermanentError with backoff and jitter. */
  const withRetry = <T>(stage: string, call: () => ObservableInput<T>): Observable<T> =>
    defer(call).pipe(
      retry({
        delay: (error, attempt) => {
          if (isPermanent(error)) return throwError(() => error);
          const delayMs = backoffDelay(attempt, { baseMs: options.retryBaseMs, maxMs: options.retryMaxMs, random: options.random });
          options.onRetry?.(stage, error, attempt, delayMs);
          return timer(delayMs, scheduler);
        },
      }),
    );

  const failureOf = (doc: D, error: string): Failure<D> => ({
    doc,
    error,
    outcome: doc.attempts + 1 >= options.maxAttempts ? 'dead' : 'failed',
  });

  /** Writes rows; when the database rejects the batch, halves it until the unacceptable rows stand alone. */
  const writeIsolating = (items: Array<{ doc: D; row: R }>): Observable<Isolated<D>> => {
    if (items.length === 0) return of({ written: [], failures: [] });
    return withRetry('write', () => sinks.writeBatch(items.map((item) => item.row))).pipe(
      map((): Isolated<D> => ({ written: items.map((item) => item.doc), failures: [] })),
      catchError((error: unknown) => {
        if (!isPermanent(error)) return throwError(() => error);
        if (items.length === 1) return of({ written: [], failures: [failureOf(items[0]!.doc, error.message)] });
        const middle = Math.ceil(items.length / 2);
        return concat(writeIsolating(items.slice(0, middle)), writeIsolating(items.slice(middle))).pipe(
          reduce((all, part) => ({ written: [...all.written, ...part.written], failures: [...all.failures, ...part.failures] })),
        );
      }),
    );
  };

  const processBatch = (candidates: Candidate[]): Observable<BatchOutcome> => {
    const seq = ++batchSeq;
    const batchId = `${prefix}-${seq}`;
    const startedAt = scheduler.now();
    const ids = candidates.map((candidate) => candidate.id);
    const viaSweep = new Set(candidates.filter((candidate) => candidate.via === 'sweep').map((candidate) => candidate.id));
    // What is already recorded, so that a batch failing in a later stage still reports it truthfully.
    const recorded = { claimed: 0, processed: 0, failed: 0, dead: 0, sweepHits: 0 };
    const resumeToken = candidates.findLast((candidate) => candidate.via === 'stream' && candidate.resumeToken !== undefined)?.resumeToken;

    return withRetry('claim', () => sinks.claim(ids)).pipe(
      switchMap((docs) => {
        recorded.claimed = docs.length;
        recorded.sweepHits = docs.filter((doc) => viaSweep.has(doc.id)).length;
        const items: Array<{ doc: D; row: R }> = [];
        const transformFailures: Array<Failure<D>> = [];
        for (const doc of docs) {
          try {
            items.push({ doc, row: sinks.transform(doc) });
          } catch (error) {
            transformFailures.push(failureOf(doc, messageOf(error)));
          }
        }
        return writeIsolating(items).pipe(
          switchMap(({ written, failures: writeFailures }) => {
            const failures = [...transformFailures, ...writeFailures];
            const durationMs = scheduler.now() - startedAt;
            const entries: Array<LogEntry<D>> = [
              ...written.map((doc) => ({
                doc,
                id: doc.id,
                outcome: 'processed' as const,
                batchId,
                durationMs,
                latencyMs: scheduler.now() - doc.receivedAt.getTime(),
              })),
              ...failures.map(({ doc, outcome, error }) => ({
                doc,
                id: doc.id,
                outcome,
                batchId,
                durationMs,
                latencyMs: scheduler.now() - doc.receivedAt.getTime(),
                error,
              })),
            ];
            const checkpointNow = resumeToken !== undefined && seq > lastCheckpointedSeq;
            const failed = failures.filter((f) => f.outcome === 'failed').length;
            return concat(
              written.length > 0
                ? withRetry('mark-processed', () => sinks.markProcessed(written)).pipe(
                    tap({ complete: () => (recorded.processed = written.length) }),
                  )
                : EMPTY,
              failures.length > 0
                ? withRetry('mark-failed', () => sinks.markFailed(failures)).pipe(
                    tap({
                      complete: () => {
                        recorded.failed = failed;
                        recorded.dead = failures.length - failed;
                      },
                    }),
                  )
                : EMPTY,
              entries.length > 0 ? withRetry('log', () => sinks.log(entries)) : EMPTY,
              checkpointNow
                ? defer(() => {
                    lastCheckpointedSeq = seq;
                    return withRetry('checkpoint', () => sinks.checkpoint(resumeToken));
                  })
                : EMPTY,
            ).pipe(
              reduce(() => undefined, undefined),
              // Every stage has completed, so what is recorded is the whole outcome.
              map(
                (): BatchOutcome => ({
                  batchId,
                  candidates: candidates.length,
                  ...recorded,
                  durationMs: scheduler.now() - startedAt,
                  checkpointed: checkpointNow,
                }),
              ),
            );
          }),
        );
      }),
      // One batch failing beyond retry must not stop the pipeline: its documents stay unprocessed and
      // their leases expire, so the sweep offers them again.
      catchError((error: unknown) =>
        of<BatchOutcome>({
          batchId,
          candidates: candidates.length,
          ...recorded,
          durationMs: scheduler.now() - startedAt,
          checkpointed: false,
          error: messageOf(error),
        }),
      ),
      // Whatever happened, these ids may be offered again (if still unprocessed, the sweep will).
      finalize(() => {
        for (const id of ids) inFlight.delete(id);
      }),
    );
  };

  return merge(sources.changes$, sources.sweep$).pipe(
    filter((candidate) => {
      if (inFlight.has(candidate.id) || inFlight.size >= maxInFlight) return false;
      inFlight.add(candidate.id);
      return true;
    }),
    groupCommit(processBatch, {
      maxSize: sizeLimit ? () => Math.max(1, Math.min(options.batchMaxSize, sizeLimit())) : options.batchMaxSize,
      maxWaitMs: options.batchMaxWaitMs,
      concurrency: options.concurrency,
      scheduler,
    }),
  );
}
