import { describe, expect, it } from 'vitest';
import { BatchSizer } from './batch-sizer.js';

describe('BatchSizer', () => {
  it('takes BATCH_MAX_SIZE until it has seen documents, and while they are small', () => {
    const sizer = new BatchSizer(500, 8 * 1_048_576);
    expect(sizer.limit()).toBe(500);
    sizer.observe([300, 400, 350]);
    expect(sizer.limit()).toBe(500);
  });

  it('lowers the count so the next batch fits the byte budget, and raises it again when documents shrink', () => {
    const sizer = new BatchSizer(500, 1_000_000);
    sizer.observe([200_000, 200_000, 100_000]);
    expect(sizer.limit()).toBe(6); // 1,000,000 / 166,667
    sizer.observe([3_000_000]);
    expect(sizer.limit()).toBe(1); // never below one: a document larger than the budget still goes alone
    sizer.observe([]);
    expect(sizer.limit()).toBe(1);
    sizer.observe([1_000, 1_000]);
    expect(sizer.limit()).toBe(500);
  });
});
