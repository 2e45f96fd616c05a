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

/**
 * A page of waiting documents: their ids (a page as long as the limit means more wait), or the documents
 * with their tenants and whether more wait (a fair page can be short and still leave a backlog).
 */
export type WaitingPage = string[] | { found: Array<{ id: string; tenantId?: string }>; full: boolean };

export interface SweepOptions {
  /** Up to `limit` documents waiting to be processed, oldest first (per tenant, for a fair page). */
  findWaiting(limit: number): Promise<WaitingPage> | Observable<WaitingPage>;
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
  type Found = Array<{ id: string; tenantId?: string }>;
  const page$ = (delayMs: number): Observable<Found> =>
    timer(delayMs, scheduler).pipe(
      concatMap(() => {
        const limit = Math.min(options.pageSize, options.room?.() ?? options.pageSize);
        // No room: the pipeline is full, so there is a backlog; look again soon.
        if (limit <= 0) return of({ found: [] as Found, full: true });
        return defer(() => options.findWaiting(limit)).pipe(
          map((page) => (Array.isArray(page) ? { found: page.map((id) => ({ id })), full: page.length >= limit } : page)),
          catchError((error: unknown) => {
            options.onError?.(error);
            return of({ found: [] as Found, full: false });
          }),
        );
      }),
      concatMap(({ found, full }) => concat(of(found), page$(full ? options.backlogIntervalMs : options.intervalMs))),
    );
  return page$(0).pipe(
    filter((found) => found.length > 0),
    mergeMap((found) => from(found.map((doc): Candidate => ({ ...doc, via: 'sweep' })))),
  );
}
