// What a processor's memory comes to for its byte budget: the bound docs/operations.md states, measured by
// the drain benchmark with documents of 200 KiB and 2 MiB (`--payload-kib`; docs/benchmarks.md's drain table).
import { EXPRESS_BYTES_DIVISOR } from './sinks.js';

const MiB = 2 ** 20;

/**
 * Peak RSS on small documents, where the budget is never reached: code, pools, the heap's headroom. On Node 24
 * (the supported runtime) a processor holds 15-40 MiB more than on Node 20 for the same work: the 2 MiB
 * documents test peaked at 197-226 MiB there against 183-187 on Node 20.
 */
export const BASE_RSS_MIB = 224;
/**
 * How many times a byte of documents in flight is held at peak: the driver's reply and its chunks, the
 * decoded document, the metadata's JSON, the statement's bound array, its wire buffer, garbage not yet
 * collected. Measured 3.6-4.3 with 200 KiB and 2 MiB documents; 6 leaves room.
 */
export const IN_FLIGHT_COPIES = 6;
/** The live V8 heap: 50-60 MiB on small documents, plus about four copies of the documents in flight. */
const HEAP_BASE_MIB = 64;
const HEAP_COPIES = 5;

export interface MemoryPlan {
  /** Peak RSS this processor stays under: BASE_RSS_MIB + IN_FLIGHT_COPIES × BATCH_MAX_BYTES × (BATCH_CONCURRENCY + 1/8). */
  boundMiB: number;
  /** The old-space size its live heap needs at peak; a smaller --max-old-space-size risks an out-of-memory crash. */
  heapNeedMiB: number;
  /** V8's heap limit in this process (--max-old-space-size and the rest). */
  heapLimitMiB: number;
}

/** Batches of documents in flight at most: the slots, and fair share's express batch at an eighth of the budget. */
const inFlightBatches = (batchConcurrency: number) => batchConcurrency + 1 / EXPRESS_BYTES_DIVISOR;

export function processorMemoryBoundMiB({ batchMaxBytes, batchConcurrency }: { batchMaxBytes: number; batchConcurrency: number }) {
  return Math.ceil(BASE_RSS_MIB + (IN_FLIGHT_COPIES * batchMaxBytes * inFlightBatches(batchConcurrency)) / MiB);
}

export function memoryPlan(settings: { batchMaxBytes: number; batchConcurrency: number }, heapLimitBytes: number): MemoryPlan {
  return {
    boundMiB: processorMemoryBoundMiB(settings),
    heapNeedMiB: Math.ceil(HEAP_BASE_MIB + (HEAP_COPIES * settings.batchMaxBytes * inFlightBatches(settings.batchConcurrency)) / MiB),
    heapLimitMiB: Math.floor(heapLimitBytes / MiB),
  };
}
