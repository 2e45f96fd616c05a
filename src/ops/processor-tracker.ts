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

export interface ProcessorView {
  mode: FeedMode;
  lastEventAt: Date | null;
  lastCheckpointAt: Date | null;
}

export function createProcessorTracker(metrics: Metrics) {
  const view: ProcessorView = { mode: 'change-stream+sweep', lastEventAt: null, lastCheckpointAt: null };
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
  };
}

export type ProcessorTracker = ReturnType<typeof createProcessorTracker>;
