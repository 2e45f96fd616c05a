import { of, take, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { sweep$ } from './sweep.js';

describe('sweep$', () => {
  it('sweeps at once, then every interval, and sooner while pages come back full', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(() => {
      const pages = [['a', 'b'], ['c', 'd'], ['e'], [], ['f']];
      const calls: number[] = [];
      const emitted: string[] = [];
      sweep$({
        findWaiting: (limit) => {
          calls.push(scheduler.now());
          expect(limit).toBe(2);
          return of(pages.shift() ?? []);
        },
        intervalMs: 100,
        pageSize: 2,
        backlogIntervalMs: 10,
        scheduler,
      })
        .pipe(take(6), toArray())
        .subscribe((candidates) => emitted.push(...candidates.map((c) => `${c.id}:${c.via}`)));
      scheduler.flush();
      // Full pages at 0 and 10 bring the next page 10 ms later; a short page waits the whole interval.
      expect(calls).toEqual([0, 10, 20, 120, 220]);
      expect(emitted).toEqual(['a:sweep', 'b:sweep', 'c:sweep', 'd:sweep', 'e:sweep', 'f:sweep']);
    });
  });

  it('a failing query is reported and the sweep carries on', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ expectObservable, cold }) => {
      let call = 0;
      const errors: unknown[] = [];
      const out$ = sweep$({
        findWaiting: () => (call++ === 0 ? cold<string[]>('#', undefined, new Error('server down')) : of(['x'])),
        intervalMs: 100,
        pageSize: 5,
        backlogIntervalMs: 10,
        scheduler,
        onError: (error) => errors.push(error),
      }).pipe(take(1));
      expectObservable(out$).toBe('100ms (x|)', { x: { id: 'x', via: 'sweep' } });
      scheduler.flush();
      expect(errors).toHaveLength(1);
    });
  });

  it('asks only for what the pipeline has room for, and skips the query while it is full', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(() => {
      const rooms = [3, 0, 0, 5];
      const limits: Array<[number, number]> = [];
      sweep$({
        findWaiting: (limit) => {
          limits.push([scheduler.now(), limit]);
          return of(Array.from({ length: limit }, (_, i) => `id${i}`));
        },
        intervalMs: 100,
        pageSize: 4,
        backlogIntervalMs: 10,
        room: () => rooms.shift() ?? 4,
        scheduler,
      })
        .pipe(take(7))
        .subscribe();
      scheduler.flush();
      // Room 3 at 0 (a full page, so 10 ms later); no room at 10 and 20 (no query); room 5 capped to the page at 30.
      expect(limits).toEqual([
        [0, 3],
        [30, 4],
      ]);
    });
  });
});
