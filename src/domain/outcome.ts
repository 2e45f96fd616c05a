// What became of one raw document in one batch: the processor reports it, processing_logs records it,
// metrics count it.

export const OUTCOMES = ['processed', 'failed', 'dead'] as const;
export type Outcome = (typeof OUTCOMES)[number];
