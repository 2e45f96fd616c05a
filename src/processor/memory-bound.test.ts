import { describe, expect, it } from 'vitest';
import { memoryPlan, processorMemoryBoundMiB } from './memory-bound.js';

const MiB = 2 ** 20;

describe('memoryPlan', () => {
  it('grows with the bytes in flight, BATCH_MAX_BYTES × (BATCH_CONCURRENCY + an express eighth), and with nothing else', () => {
    const at = (batchMaxBytes: number, batchConcurrency: number) => processorMemoryBoundMiB({ batchMaxBytes, batchConcurrency });
    expect(at(16 * MiB, 4) - at(8 * MiB, 4)).toBe(at(8 * MiB, 4) - at(0, 4));
    expect(at(8 * MiB, 8)).toBeGreaterThan(at(8 * MiB, 4));
    // One more slot adds a whole budget's copies; the express batch an eighth of one.
    const copies = (at(8 * MiB, 5) - at(8 * MiB, 4)) / 8;
    expect(at(8 * MiB, 4) - at(0, 4)).toBeCloseTo(copies * 8 * (4 + 1 / 8), 0);
  });

  it('says when the heap limit is below what the live heap needs at peak', () => {
    const defaults = { batchMaxBytes: 8 * MiB, batchConcurrency: 4 };
    const roomy = memoryPlan(defaults, 512 * MiB);
    expect(roomy.heapLimitMiB).toBe(512);
    expect(roomy.heapNeedMiB).toBeLessThan(512);
    const large = memoryPlan({ batchMaxBytes: 64 * MiB, batchConcurrency: 4 }, 512 * MiB);
    expect(large.heapNeedMiB).toBeGreaterThan(large.heapLimitMiB);
  });
});
