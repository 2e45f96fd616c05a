// The API's cursor pagination as async iterators: every list answers `{ data, has_more, next_starting_after }`
// and the next page is asked for with `starting_after`, so items are yielded once each, in the API's order,
// however many pages there are.
import type { CallOptions } from './transport.js';

/** A page as every list of the API answers it. */
export interface Page<T> {
  data: T[];
  has_more: boolean;
  /** The `starting_after` of the next page; null on the last one. */
  next_starting_after: string | null;
}

/** Items across pages: `fetchPage(after)` reads the page that starts after that cursor (the first with none). */
export async function* paginate<T>(
  fetchPage: (after: string | undefined) => Promise<Page<T>>,
  startingAfter?: string,
): AsyncGenerator<T, void, undefined> {
  let after = startingAfter;
  for (;;) {
    const page = await fetchPage(after);
    yield* page.data;
    if (!page.has_more || page.next_starting_after === null) return;
    after = page.next_starting_after;
  }
}

/** What every listing takes besides its filters. */
export interface ListOptions extends CallOptions {
  /** Items per page (the API's default is 25, its maximum 100). */
  pageSize?: number;
}
