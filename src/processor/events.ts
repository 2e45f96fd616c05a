// Everything the processor has to say, as one typed event surface: the log subscriber, the metrics
// subscriber (wired by cli/) and the tests all listen here, instead of reading a mutable stats object.
import { EventEmitter } from 'node:events';
import type { FeedMode } from '../domain/feed-mode.js';
import type { BatchOutcome } from '../streams/pipeline.js';
import type { MemoryPlan } from './memory-bound.js';

export interface ProcessorEventMap {
  started: [{ mode: FeedMode; resumed: boolean; lastCheckpointAt: Date | null; pageSize: number; memory: MemoryPlan }];
  /** A batch finished (committed, or failed beyond retry with `error` set). */
  batch: [BatchOutcome];
  /** A change event was seen; `at` is its cluster time. */
  'change-seen': [{ at: Date }];
  /** The resume token was stored (after a batch, or by the heartbeat). */
  checkpoint: [{ at: Date }];
  'mode-changed': [{ mode: FeedMode; error: unknown }];
  'stream-reconnecting': [{ error: unknown; attempt: number; delayMs: number }];
  /** The resume token was unusable and the stream restarted from now: a gap only the sweep covers. */
  'stream-restarted': [{ error: unknown; lastCheckpointAt: Date | null }];
  'heartbeat-failed': [{ error: unknown }];
  'sweep-failed': [{ error: unknown }];
  /** A batch stage failed for a reason that is no document's (the database away): retried without a cap. */
  'stage-retry': [{ stage: string; error: unknown; attempt: number; delayMs: number }];
  /** A stage that was retried stopped retrying: it succeeded (`recovered`), or its batch ended otherwise. */
  'stage-retry-ended': [{ stage: string; retries: number; retriedMs: number; recovered: boolean }];
  'pipeline-failed': [{ error: unknown }];
  /** The group's live members changed: this processor's share of the hash slots now (all of them alone). */
  'slots-changed': [{ members: number; slots: number }];
  'membership-failed': [{ error: unknown }];
  stopped: [{ drained: boolean; released: number }];
}

export class ProcessorEvents extends EventEmitter<ProcessorEventMap> {}
