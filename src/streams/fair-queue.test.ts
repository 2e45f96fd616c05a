import { describe, expect, it } from 'vitest';
import { FairQueue, FifoQueue } from './fair-queue.js';

const tenantOf = (item: string) => item.split('-')[0]!;
const fill = (queue: FairQueue<string> | FifoQueue<string>, tenant: string, count: number, at = 0) => {
  for (let i = 0; i < count; i++) queue.push(`${tenant}-${i}`, at + i);
};
const countBy = (items: string[]) => {
  const counts: Record<string, number> = {};
  for (const item of items) counts[tenantOf(item)] = (counts[tenantOf(item)] ?? 0) + 1;
  return counts;
};

describe('FairQueue', () => {
  it("gives a quiet tenant's few items a batch of their own within a turn of another tenant's backlog", () => {
    const queue = new FairQueue(tenantOf);
    fill(queue, 'b', 40_000);
    fill(queue, 'a', 10, 50_000);
    const batches = [queue.take(500), queue.take(500)];
    // One of the next two batches is b's, whole; the other is a's ten, in arrival order, and nothing else.
    const mine = batches.find((batch) => batch[0]!.startsWith('a-'))!;
    expect(mine).toEqual(Array.from({ length: 10 }, (_, i) => `a-${i}`));
    expect(countBy(batches.find((batch) => batch !== mine)!)).toEqual({ b: 500 });
    expect(queue.length).toBe(40_000 - 500);
  });

  it('tenants with little waiting share a batch; larger lines get batches of their own, by weight', () => {
    const queue = new FairQueue(tenantOf, (tenant) => (tenant === 'a' ? 2 : 1));
    fill(queue, 'a', 1_000);
    fill(queue, 'b', 1_000);
    fill(queue, 'c', 3);
    fill(queue, 'd', 4);
    fill(queue, 'm', 40);
    const batches = Array.from({ length: 6 }, () => countBy(queue.take(100)));
    // A tenth of the batch (10) is little: c and d share; m's 40 is a batch of its own.
    expect(batches).toEqual([{ a: 100 }, { a: 100 }, { b: 100 }, { c: 3, d: 4 }, { m: 40 }, { a: 100 }]);
    // Express: the small tenants only, never a line longer than the express batch.
    fill(queue, 'e', 3);
    fill(queue, 'f', 60);
    expect(countBy(queue.takeExpress(50))).toEqual({ e: 3 });
  });

  it("never puts a quiet tenant's item in a batch with hundreds of another tenant's", () => {
    const queue = new FairQueue(tenantOf);
    fill(queue, 'b', 300);
    fill(queue, 'a', 1, 1_000);
    const batches = [queue.take(500), queue.take(500)].map(countBy);
    expect(batches).toContainEqual({ b: 300 });
    expect(batches).toContainEqual({ a: 1 });
  });

  it('never loses or repeats an item, and knows its oldest', () => {
    const queue = new FairQueue(tenantOf);
    fill(queue, 'a', 7, 100);
    fill(queue, 'b', 3, 50);
    fill(queue, 'c', 11, 200);
    expect(queue.oldestAt()).toBe(50);
    const all: string[] = [];
    while (queue.length > 0) all.push(...queue.take(4));
    expect(new Set(all).size).toBe(21);
    expect(all).toHaveLength(21);
    expect(queue.oldestAt()).toBeUndefined();
  });

  it('FifoQueue keeps arrival order', () => {
    const queue = new FifoQueue<string>();
    fill(queue, 'b', 3);
    fill(queue, 'a', 2, 10);
    expect(queue.take(4)).toEqual(['b-0', 'b-1', 'b-2', 'a-0']);
    expect(queue.oldestAt()).toBe(11);
  });
});
