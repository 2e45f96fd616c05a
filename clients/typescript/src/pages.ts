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
    const next = nextCursor(page);
    // No next page, or a cursor that would read the same page again: done (never a loop).
    if (next === undefined || next === after) return;
    after = next;
  }
}

/**
 * The cursor of the page after `page`, or undefined on the last. A gateway of an earlier release (a rollback
 * puts gateways back first) may answer a list without `next_starting_after` (events) or with `hasMore` in place
 * of `has_more` (deliveries): the last item's id stands in for the one, `hasMore` for the other.
 */
function nextCursor<T>(page: Page<T>): string | undefined {
  const more = page.has_more ?? (page as { hasMore?: boolean }).hasMore ?? false;
  if (!more) return undefined;
  if (typeof page.next_starting_after === 'string') return page.next_starting_after;
  const last = page.data.at(-1) as { id?: unknown } | undefined;
  return typeof last?.id === 'string' ? last.id : undefined;
}

/** What every listing takes besides its filters. */
export interface ListOptions extends CallOptions {
  /** Items per page (the API's default is 25, its maximum 100). */
  pageSize?: number;
}
