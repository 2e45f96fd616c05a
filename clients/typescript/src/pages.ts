// The API's cursor pagination as async iterators: each page asks for what follows the last item read
// (`starting_after`), so items are yielded once each, in the API's order, however many pages there are.
import type { CallOptions } from './transport.js';

export interface Page<T> {
  data: T[];
  hasMore: boolean;
}

/** Items across pages: `fetchPage(after)` reads the page after the item with that id (the first with none). */
export async function* paginate<T extends { id: string }>(
  fetchPage: (after: string | undefined) => Promise<Page<T>>,
  startingAfter?: string,
): AsyncGenerator<T, void, undefined> {
  let after = startingAfter;
  for (;;) {
    const page = await fetchPage(after);
    yield* page.data;
    const last = page.data.at(-1);
    if (!page.hasMore || !last) return;
    after = last.id;
  }
}

/** What every listing takes besides its filters. */
export interface ListOptions extends CallOptions {
  /** Items per page (the API's default is 25, its maximum 100). */
  pageSize?: number;
}
