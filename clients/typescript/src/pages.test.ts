import { describe, expect, it } from 'vitest';
import { type Page, paginate } from './pages.js';

type Item = { id: string };
const items = (from: number, n: number): Item[] => Array.from({ length: n }, (_, i) => ({ id: `e${from + i}` }));

/** Collects what paginate yields from `pages` (keyed by the cursor asked), failing on a page asked twice. */
async function read(pages: Record<string, Page<Item>>): Promise<string[]> {
  const asked: string[] = [];
  const seen: string[] = [];
  for await (const item of paginate(async (after) => {
    const key = after ?? '';
    if (asked.includes(key)) throw new Error(`page after "${key}" asked twice`);
    asked.push(key);
    return pages[key]!;
  }))
    seen.push(item.id);
  return seen;
}

describe('paginate', () => {
  it('follows next_starting_after to the last page', async () => {
    const seen = await read({
      '': { data: items(1, 2), has_more: true, next_starting_after: 'e2' },
      e2: { data: items(3, 2), has_more: false, next_starting_after: null },
    });
    expect(seen).toEqual(['e1', 'e2', 'e3', 'e4']);
  });

  it("reads an earlier release's lists: no next_starting_after (the last id stands in), hasMore for has_more", async () => {
    const older = (data: Item[], more: boolean) => ({ data, has_more: more }) as unknown as Page<Item>;
    expect(await read({ '': older(items(1, 2), true), e2: older(items(3, 1), false) })).toEqual(['e1', 'e2', 'e3']);
    const deliveries = (data: Item[], more: boolean) => ({ data, hasMore: more }) as unknown as Page<Item>;
    expect(await read({ '': deliveries(items(1, 2), true), e2: deliveries(items(3, 1), false) })).toEqual(['e1', 'e2', 'e3']);
  });

  it('stops rather than read the same page again', async () => {
    expect(await read({ '': { data: [], has_more: true, next_starting_after: null } })).toEqual([]);
  });
});
