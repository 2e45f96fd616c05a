// The polling sweep, the fallback that guarantees nothing is missed: every interval it offers the documents
// still waiting, and at once again while pages come back full (a backlog).
import {
  asyncScheduler,
  catchError,
  concat,
  concatMap,
  defer,
  filter,
  from,
  map,
  mergeMap,
  type Observable,
  of,
  type SchedulerLike,
  timer,
} from 'rxjs';
import type { Candidate } from './pipeline.js';

export interface SweepOptions {
  /** Ids of up to `limit` documents waiting to be processed, oldest first. */
  findWaiting(limit: number): Promise<string[]> | Observable<string[]>;
  intervalMs: number;
  pageSize: number;
  /** Delay before the next page while a backlog lasts. */
  backlogIntervalMs: number;
  /**
   * How many candidates the pipeline can take now (default: pageSize). The sweep asks for no more, and
   * skips its query while there is no room, so it pulls only as fast as batches commit.
   */
  room?: () => number;
  scheduler?: SchedulerLike;
  onError?: (error: unknown) => void;
}

export function sweep$(options: SweepOptions): Observable<Candidate> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const page$ = (delayMs: number): Observable<string[]> =>
    timer(delayMs, scheduler).pipe(
      concatMap(() => {
        const limit = Math.min(options.pageSize, options.room?.() ?? options.pageSize);
        // No room: the pipeline is full, so there is a backlog; look again soon.
        if (limit <= 0) return of({ ids: [] as string[], full: true });
        return defer(() => options.findWaiting(limit)).pipe(
          map((ids) => ({ ids, full: ids.length >= limit })),
          catchError((error: unknown) => {
            options.onError?.(error);
            return of({ ids: [] as string[], full: false });
          }),
        );
      }),
      concatMap(({ ids, full }) => concat(of(ids), page$(full ? options.backlogIntervalMs : options.intervalMs))),
    );
  return page$(0).pipe(
    filter((ids) => ids.length > 0),
    mergeMap((ids) => from(ids.map((id): Candidate => ({ id, via: 'sweep' })))),
  );
}
