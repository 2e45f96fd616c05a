import { afterEach, describe, expect, it, vi } from 'vitest';
import { InsertSpacing } from '../../src/raw-store/insert.js';

describe('InsertSpacing (when coalesced single inserts go)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A spacing on a fake clock; `ran` lists each dispatch with the fake time it ran at. */
  function spaced(spacingMs: number) {
    vi.useFakeTimers();
    const spacing = new InsertSpacing(spacingMs, () => Date.now());
    const start = Date.now();
    const ran: Array<[string, number]> = [];
    const schedule = (name: string) => spacing.schedule(() => ran.push([name, Date.now() - start]));
    return { ran, schedule, advance: (ms: number) => vi.advanceTimersByTime(ms) };
  }

  it('sends the first insert at the next timers turn, and one after a quiet spell as well', () => {
    const { ran, schedule, advance } = spaced(4);
    schedule('a');
    advance(0);
    expect(ran).toEqual([['a', 0]]);
    advance(10); // quiet for longer than the spacing
    schedule('b');
    advance(0);
    expect(ran).toEqual([
      ['a', 0],
      ['b', 10],
    ]);
  });

  it('while inserts come often, sends each at least the spacing after the one before', () => {
    const { ran, schedule, advance } = spaced(4);
    schedule('a'); // at 0
    advance(1);
    schedule('b'); // asked at 1: goes at 4
    advance(2);
    expect(ran).toEqual([['a', 0]]);
    advance(1);
    expect(ran).toEqual([
      ['a', 0],
      ['b', 4],
    ]);
    advance(1);
    schedule('c'); // asked at 5: goes at 8
    schedule('d'); // another batch at once (the first was full): goes at 12
    advance(20);
    expect(ran).toEqual([
      ['a', 0],
      ['b', 4],
      ['c', 8],
      ['d', 12],
    ]);
  });

  it('with spacing 0, every insert goes at the next timers turn', () => {
    const { ran, schedule, advance } = spaced(0);
    schedule('a');
    schedule('b');
    advance(0);
    expect(ran).toEqual([
      ['a', 0],
      ['b', 0],
    ]);
  });
});
