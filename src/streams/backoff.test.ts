import { describe, expect, it } from 'vitest';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles per attempt between half and all of the nominal delay, capped at maxMs', () => {
    const low = (attempt: number) => backoffDelay(attempt, { baseMs: 100, maxMs: 1_000, random: () => 0 });
    const high = (attempt: number) => backoffDelay(attempt, { baseMs: 100, maxMs: 1_000, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5, 6].map(low)).toEqual([50, 100, 200, 400, 500, 500]);
    expect([1, 2, 3, 4, 5, 6].map(high)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });
});
