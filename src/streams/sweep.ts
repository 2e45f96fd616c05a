// The polling sweep: the fallback that guarantees nothing is missed. Every interval it lists documents
// still waiting and offers them as candidates; when a page comes back full there is a backlog, so the
// next page is fetched soon instead of a whole interval later.
import { asyncScheduler, catchError, concat, concatMap, defer, from, mergeMap, of, timer, type Observable, type SchedulerLike } from 'rxjs';
import type { Candidate } from './pipeline.js';

export interface SweepOptions {
  /** Ids of up to `limit` documents waiting to be processed, oldest first. */
  findWaiting(limit: number): Promise<string[]> | Observable<string[]>;
  intervalMs: number;
  pageSize: number;
  /** Delay before the next page while a backlog lasts. */
  backlogIntervalMs: number;
  scheduler?: SchedulerLike;
  onError?: (error: unknown) => void;
}

export function sweep$(options: SweepOptions): Observable<Candidate> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const page$ = (delayMs: number): Observable<string[]> =>
    timer(delayMs, scheduler).pipe(
      concatMap(() =>
        defer(() => options.findWaiting(options.pageSize)).pipe(
          catchError((error: unknown) => {
            options.onError?.(error);
            return of([] as string[]);
          }),
        ),
      ),
      concatMap((ids) => concat(of(ids), page$(ids.length >= options.pageSize ? options.backlogIntervalMs : options.intervalMs))),
    );
  return page$(0).pipe(mergeMap((ids) => from(ids.map((id): Candidate => ({ id, via: 'sweep' })))));
}
