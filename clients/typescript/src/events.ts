// The events feed: a filtered listing across pages, and a follower that polls for new events for as long as
// the caller wants, resuming after the last event it yielded (the feed lists an event only once every older
// one is committed, so a cursor never skips one).
import { type ListOptions, type Page, paginate } from './pages.js';
import { sleep } from './retry.js';
import type { Send } from './transport.js';
import type { Event, EventType } from './types.js';

export interface EventFilters {
  types?: EventType[];
  /** `created` from (inclusive), ISO 8601 with an offset. */
  from?: string;
  /** `created` to (exclusive). */
  to?: string;
  /** Start after this event id (the last one you processed). */
  startingAfter?: string;
}

export interface FollowOptions extends ListOptions, Omit<EventFilters, 'to'> {
  /** How long to wait before asking again once the feed is read to its end (default 1000 ms, at least 100). */
  pollIntervalMs?: number;
}

/** The least wait between polls, so a follower cannot hammer the API. */
export const MIN_POLL_INTERVAL_MS = 100;

export function eventsResource(send: Send) {
  const pages = ({ types, from, to, startingAfter }: EventFilters, { pageSize, ...call }: ListOptions) =>
    paginate(
      (after) =>
        send<Page<Event>>({
          method: 'GET',
          path: 'api/v1/events',
          query: { type: types?.join(','), from, to, limit: pageSize, starting_after: after },
          ...call,
        }),
      startingAfter,
    );
  return {
    /** GET /api/v1/events, every page: oldest first. */
    list(filters: EventFilters = {}, options: ListOptions = {}): AsyncGenerator<Event, void, undefined> {
      return pages(filters, options);
    },
    /** Every event, then each new one as it is listed, until `signal` aborts (the iteration then ends). */
    async *follow(options: FollowOptions = {}): AsyncGenerator<Event, void, undefined> {
      const { pollIntervalMs = 1000, signal, timeoutMs, pageSize, types, from, startingAfter } = options;
      let last = startingAfter;
      const interval = Math.max(MIN_POLL_INTERVAL_MS, pollIntervalMs);
      try {
        for (;;) {
          for await (const event of pages({ types, from, startingAfter: last }, { pageSize, signal, timeoutMs })) {
            last = event.id;
            yield event;
          }
          await sleep(interval, signal);
        }
      } catch (error) {
        if (!signal?.aborted) throw error;
      }
    },
  };
}
