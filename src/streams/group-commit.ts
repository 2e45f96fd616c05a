// Adaptive batching (group commit): a batch leaves when a slot is free and either `maxSize` items wait or the
// oldest has waited `maxWaitMs`.
import { Observable, type OperatorFunction, type SchedulerLike, type Subscriber, Subscription } from 'rxjs';
import { type BatchQueue, FifoQueue } from './fair-queue.js';

export interface GroupCommitOptions<T, R = unknown> {
  /** The most items in one batch; a function is asked again for each batch (a limit that adapts). */
  maxSize: number | (() => number);
  maxWaitMs: number;
  /** Batches worked on at once (the slots). */
  concurrency: number;
  scheduler: SchedulerLike;
  /** Where items wait and in which order batches take them (default: first come, first served). */
  queue?: BatchQueue<T>;
  /**
   * One batch more than `concurrency`, only for items of tenants without a backlog (the queue's
   * takeExpress), at most `maxSize` of them, run by `work`: a quiet tenant's documents start at once instead
   * of waiting for a slot that another tenant's backlog keeps busy.
   */
  express?: { maxSize: number; work: (batch: T[]) => Observable<R>; yielding?: Yielding };
}

/**
 * While express batches run (a quiet tenant is being served beside a backlog), what the other batches get:
 * at most `slots` of the slots and `maxSize` items each, until `forMs` after the last express batch began.
 * On a machine the backlog keeps busy, the quiet tenant's batch then competes with one smaller batch, not
 * with every slot's full one.
 */
export interface Yielding {
  slots: number;
  maxSize: number;
  forMs: number;
}

/**
 * While every slot is busy, items accumulate, and the next free slot takes up to `maxSize` at once, so batches
 * grow with the load instead of queueing small ones behind each other (what bufferTime + mergeMap did: a batch
 * every window, whatever was in flight).
 */
export function groupCommit<T, R>(work: (batch: T[]) => Observable<R>, options: GroupCommitOptions<T, R>): OperatorFunction<T, R> {
  return (source) => new Observable<R>((subscriber) => new GroupCommit(work, options, subscriber).run(source));
}

/**
 * The batch slots of one subscription: how many are busy, whether the express batch runs, and while it is
 * yielded to, how many slots and items the others get.
 */
class CommitSlots {
  #busy = 0;
  #expressBusy = false;
  #expressAt = Number.NEGATIVE_INFINITY;
  readonly #fullSize: () => number;

  constructor(
    private readonly concurrency: number,
    maxSize: number | (() => number),
    private readonly scheduler: SchedulerLike,
    private readonly yielding: Yielding | undefined,
  ) {
    this.#fullSize = typeof maxSize === 'function' ? maxSize : () => maxSize;
  }

  /** The most items the next batch takes. */
  maxSize(): number {
    return this.#yields() ? Math.min(this.yielding!.maxSize, this.#fullSize()) : this.#fullSize();
  }

  /** Whether a batch can start in a slot now. */
  hasFree(): boolean {
    return this.#busy < this.#count();
  }

  /** Every slot busy and no express batch running: a quiet tenant's batch may start beside them. */
  expressFree(): boolean {
    return !this.hasFree() && !this.#expressBusy;
  }

  take(express: boolean): void {
    if (express) {
      this.#expressBusy = true;
      this.#expressAt = this.scheduler.now();
    } else this.#busy++;
  }

  give(express: boolean): void {
    if (express) this.#expressBusy = false;
    else this.#busy--;
  }

  idle(): boolean {
    return this.#busy === 0 && !this.#expressBusy;
  }

  #yields(): boolean {
    return this.yielding !== undefined && this.scheduler.now() - this.#expressAt < this.yielding.forMs;
  }

  #count(): number {
    return this.#yields() ? Math.min(this.yielding!.slots, this.concurrency) : this.concurrency;
  }
}

/** One subscription of the operator: the items waiting, the slots working on batches, the wake-up timer. */
class GroupCommit<T, R> {
  readonly #queue: BatchQueue<T>;
  readonly #slots: CommitSlots;
  readonly #running = new Subscription();
  #sourceDone = false;
  #timer: Subscription | undefined;

  constructor(
    private readonly work: (batch: T[]) => Observable<R>,
    private readonly options: GroupCommitOptions<T, R>,
    private readonly subscriber: Subscriber<R>,
  ) {
    this.#queue = options.queue ?? new FifoQueue<T>();
    this.#slots = new CommitSlots(options.concurrency, options.maxSize, options.scheduler, options.express?.yielding);
  }

  /** Subscribes to the source; returns the teardown. */
  run(source: Observable<T>): () => void {
    const input = source.subscribe({
      next: (item) => this.#push(item),
      error: (error: unknown) => this.subscriber.error(error),
      complete: () => {
        this.#sourceDone = true;
        this.#pump();
        this.#finishIfDone();
      },
    });
    return () => {
      input.unsubscribe();
      this.#timer?.unsubscribe();
      this.#running.unsubscribe();
    };
  }

  #push(item: T): void {
    this.#queue.push(item, this.options.scheduler.now());
    if (this.#queue.length >= this.#slots.maxSize() || this.#timer === undefined) this.#pump();
  }

  #due(): boolean {
    const queue = this.#queue;
    const { scheduler, maxWaitMs } = this.options;
    return (
      queue.length > 0 && (queue.length >= this.#slots.maxSize() || this.#sourceDone || scheduler.now() - queue.oldestAt()! >= maxWaitMs)
    );
  }

  #finishIfDone(): void {
    if (this.#sourceDone && this.#slots.idle() && this.#queue.length === 0) this.subscriber.complete();
  }

  #pump(): void {
    while (this.#slots.hasFree() && this.#due()) this.#start(this.#queue.take(this.#slots.maxSize()), false);
    // Every slot busy: a tenant without a backlog need not wait for one (at most one express batch).
    const express = this.options.express;
    if (this.#slots.expressFree() && express && this.#queue.takeExpress && this.#queue.length > 0) {
      const batch = this.#queue.takeExpress(express.maxSize);
      if (batch.length > 0) this.#start(batch, true);
    }
    this.#arm();
  }

  /** While the oldest waits and a slot is free, wake up when it has waited long enough. */
  #arm(): void {
    this.#timer?.unsubscribe();
    this.#timer = undefined;
    if (this.#queue.length === 0 || !this.#slots.hasFree()) return; // a finishing batch pumps instead
    const { scheduler, maxWaitMs } = this.options;
    const wait = Math.max(0, this.#queue.oldestAt()! + maxWaitMs - scheduler.now());
    this.#timer = scheduler.schedule(() => {
      this.#timer = undefined;
      this.#pump();
    }, wait);
  }

  #start(batch: T[], express: boolean): void {
    this.#slots.take(express);
    const slot = new Subscription();
    this.#running.add(slot);
    const express$ = express && this.options.express ? this.options.express.work(batch) : undefined;
    slot.add(
      (express$ ?? this.work(batch)).subscribe({
        next: (result) => this.subscriber.next(result),
        error: (error: unknown) => this.subscriber.error(error),
        complete: () => {
          this.#slots.give(express);
          this.#running.remove(slot);
          this.#pump();
          this.#finishIfDone();
        },
      }),
    );
  }
}
