import { describe, expect, it } from 'vitest';
import { FairSlots } from './fair-slots.js';

/** A task that records when it starts and ends when released. */
function gatedTask(order: string[], name: string) {
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const task = async () => {
    order.push(name);
    await released;
    return name;
  };
  return { release, task };
}

const turns = () => new Promise((resolve) => setImmediate(resolve));

describe('fair slots', () => {
  it("takes the waiting tasks tenant by tenant in turn: a tenant's one task runs after at most one of another's queue", async () => {
    const slots = new FairSlots(1);
    const order: string[] = [];
    const tasks = [
      ['a', 'a1'],
      ['a', 'a2'],
      ['a', 'a3'],
      ['a', 'a4'],
      ['b', 'b1'],
      ['c', 'c1'],
      ['b', 'b2'],
    ].map(([tenant, name]) => ({ tenant: tenant!, ...gatedTask(order, name!) }));
    const done = tasks.map(({ tenant, task }) => slots.run(tenant, task));
    await turns();
    expect(order).toEqual(['a1']);
    expect(slots.pendingCount).toBe(6);
    for (const { release } of tasks) {
      release();
      await turns();
    }
    await Promise.all(done);
    // First come first served would be a1 a2 a3 a4 b1 c1 b2.
    expect(order).toEqual(['a1', 'a2', 'b1', 'c1', 'a3', 'b2', 'a4']);
    expect(slots.pendingCount).toBe(0);
  });

  it('runs up to its concurrency at once, gives a slot back when a task fails, and keeps the count', async () => {
    const slots = new FairSlots(2);
    let running = 0;
    let most = 0;
    const work = (fail: boolean) => async () => {
      most = Math.max(most, ++running);
      await turns();
      running--;
      if (fail) throw new Error('refused');
      return 'ok';
    };
    const results = await Promise.allSettled(Array.from({ length: 9 }, (_, i) => slots.run(`t${i % 3}`, work(i % 4 === 0))));
    expect(most).toBe(2);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(3);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(6);
    expect(slots.pendingCount).toBe(0);
    // The slots are all free again: two tasks run at once.
    let inside = 0;
    let together = false;
    await Promise.all(
      ['x', 'y'].map((tenant) =>
        slots.run(tenant, async () => {
          inside++;
          await turns();
          together ||= inside === 2;
          inside--;
        }),
      ),
    );
    expect(together).toBe(true);
  });
});
