import { MongoOperationTimeoutError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { iterateWithin, withinDeadline } from './mongo.js';

/** An async iterable that yields `ready` items at once, then waits for its signal: a server gone silent mid-cursor. */
function stallingAfter(ready: number, signal: AbortSignal): AsyncIterable<number> {
  return {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < ready; i++) yield i;
      await new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    },
  };
}

describe('deadlines', () => {
  it('withinDeadline aborts the operation with a MongoOperationTimeoutError once its time is up', async () => {
    const startedAt = Date.now();
    await expect(
      withinDeadline(50, ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))),
    ).rejects.toBeInstanceOf(MongoOperationTimeoutError);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });

  it('iterateWithin bounds each wait, not the walk: slow consumers are never cut, a silent server is', async () => {
    const seen: number[] = [];
    const walk = async () => {
      for await (const n of iterateWithin(100, ({ signal }) => stallingAfter(3, signal))) {
        seen.push(n);
        // Longer than the deadline between items: the caller's own time is not counted.
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    };
    await expect(walk()).rejects.toBeInstanceOf(MongoOperationTimeoutError);
    expect(seen).toEqual([0, 1, 2]);
  });
});
