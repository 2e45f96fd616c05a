// What ops knows of a processor running in this process, fed by its events (ops declares this port; cli/
// wires it): counters move as events arrive, the gauges and /readyz read the little state kept here.

import type { FeedMode } from '../domain/feed-mode.js';
import type { Metrics } from './metrics.js';

/** A finished batch, as far as metrics care. */
export interface BatchFigures {
  claimed: number;
  processed: number;
  failed: number;
  dead: number;
  sweepHits: number;
  durationMs: number;
}

/** A batch stage retrying (the database away, ...): since when, how many retries, the last error's code. */
export interface StageRetrying {
  since: Date;
  retries: number;
  code: string;
  /** Retry sequences of this stage still open (one per batch retrying it). */
  open: number;
}

export interface ProcessorView {
  mode: FeedMode;
  lastEventAt: Date | null;
  lastCheckpointAt: Date | null;
  /** The stages retrying now, by name; a stage leaves when every batch retrying it has stopped. */
  retrying: Map<string, StageRetrying>;
}

/** The stages a batch goes through, each with a series of its own from the start. */
export const BATCH_STAGES = ['claim', 'write', 'mark-processed', 'mark-failed', 'log', 'checkpoint'] as const;

/** A classified error's code (never its message: /readyz is unauthenticated), else its class. */
const codeOf = (error: unknown) => {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' || typeof code === 'number' ? String(code) : error instanceof Error ? error.name : 'unknown';
};

export function createProcessorTracker(metrics: Metrics) {
  const view: ProcessorView = { mode: 'change-stream+sweep', lastEventAt: null, lastCheckpointAt: null, retrying: new Map() };
  for (const stage of BATCH_STAGES) metrics.stageRetries.inc({ stage }, 0);
  return {
    view: (): Readonly<ProcessorView> => view,
    started({ mode, lastCheckpointAt }: { mode: FeedMode; lastCheckpointAt: Date | null }) {
      view.mode = mode;
      view.lastCheckpointAt = lastCheckpointAt;
    },
    batch(outcome: BatchFigures) {
      metrics.outcomes.inc({ outcome: 'processed' }, outcome.processed);
      metrics.outcomes.inc({ outcome: 'failed' }, outcome.failed);
      metrics.outcomes.inc({ outcome: 'dead' }, outcome.dead);
      metrics.sweepHits.inc(outcome.sweepHits);
      metrics.batchSize.observe(outcome.claimed);
      metrics.batchDuration.observe(outcome.durationMs / 1000);
    },
    changeSeen({ at }: { at: Date }) {
      view.lastEventAt = at;
    },
    checkpoint({ at }: { at: Date }) {
      view.lastCheckpointAt = at;
    },
    modeChanged({ mode }: { mode: FeedMode }) {
      view.mode = mode;
    },
    streamRestarted() {
      metrics.streamRestarts.inc();
    },
    streamReconnecting() {
      metrics.streamReconnects.inc();
    },
    stageRetry({ stage, error, attempt }: { stage: string; error: unknown; attempt: number }) {
      metrics.stageRetries.inc({ stage });
      const retrying = view.retrying.get(stage) ?? { since: new Date(), retries: 0, code: '', open: 0 };
      view.retrying.set(stage, retrying);
      // The first retry of a batch's call opens its sequence; stageRetryEnded closes it.
      if (attempt === 1) retrying.open += 1;
      retrying.retries += 1;
      retrying.code = codeOf(error);
    },
    stageRetryEnded({ stage }: { stage: string }) {
      const retrying = view.retrying.get(stage);
      if (retrying && --retrying.open <= 0) view.retrying.delete(stage);
    },
  };
}

export type ProcessorTracker = ReturnType<typeof createProcessorTracker>;
