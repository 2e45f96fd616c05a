// Adaptive batching (group commit): a batch leaves when a slot is free and either `maxSize` items wait or the
// oldest has waited `maxWaitMs`.
import { Observable, type OperatorFunction, type SchedulerLike, Subscription } from 'rxjs';
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
  const { maxSize: max, maxWaitMs, scheduler } = options;
  const fullSize = typeof max === 'function' ? max : () => max;
  const yielding = options.express?.yielding;
  return (source) =>
    new Observable<R>((subscriber) => {
      let expressAt = Number.NEGATIVE_INFINITY;
      const yields = () => yielding !== undefined && scheduler.now() - expressAt < yielding.forMs;
      const slots = () => (yields() ? Math.min(yielding!.slots, options.concurrency) : options.concurrency);
      const maxSize = () => (yields() ? Math.min(yielding!.maxSize, fullSize()) : fullSize());
      const queue: BatchQueue<T> = options.queue ?? new FifoQueue<T>();
      const running = new Subscription();
      let busy = 0;
      let expressBusy = false;
      let sourceDone = false;
      let timer: Subscription | undefined;

      const due = () => queue.length > 0 && (queue.length >= maxSize() || sourceDone || scheduler.now() - queue.oldestAt()! >= maxWaitMs);
      const finishIfDone = () => {
        if (sourceDone && busy === 0 && !expressBusy && queue.length === 0) subscriber.complete();
      };
      /** While the oldest waits and a slot is free, wake up when it has waited long enough. */
      const arm = () => {
        timer?.unsubscribe();
        timer = undefined;
        if (queue.length === 0 || busy >= slots()) return; // a finishing batch pumps instead
        const wait = Math.max(0, queue.oldestAt()! + maxWaitMs - scheduler.now());
        timer = scheduler.schedule(() => {
          timer = undefined;
          pump();
        }, wait);
      };
      const start = (batch: T[], express: boolean) => {
        if (express) {
          expressBusy = true;
          expressAt = scheduler.now();
        } else busy++;
        const slot = new Subscription();
        running.add(slot);
        slot.add(
          (express && options.express ? options.express.work(batch) : work(batch)).subscribe({
            next: (result) => subscriber.next(result),
            error: (error: unknown) => subscriber.error(error),
            complete: () => {
              if (express) expressBusy = false;
              else busy--;
              running.remove(slot);
              pump();
              finishIfDone();
            },
          }),
        );
      };
      const pump = (): void => {
        while (busy < slots() && due()) start(queue.take(maxSize()), false);
        // Every slot busy: a tenant without a backlog need not wait for one (at most one express batch).
        if (busy >= slots() && !expressBusy && options.express && queue.takeExpress && queue.length > 0) {
          const batch = queue.takeExpress(options.express.maxSize);
          if (batch.length > 0) start(batch, true);
        }
        arm();
      };

      const input = source.subscribe({
        next: (item) => {
          queue.push(item, scheduler.now());
          if (queue.length >= maxSize() || timer === undefined) pump();
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          pump();
          finishIfDone();
        },
      });
      return () => {
        input.unsubscribe();
        timer?.unsubscribe();
        running.unsubscribe();
      };
    });
}
