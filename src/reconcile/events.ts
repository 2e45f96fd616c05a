// Everything reconciliation has to say, as one typed event surface (like the processor's and the deliverer's):
// its log subscriber and tests listen here; its figures for /metrics are read from the stored runs instead.
import { EventEmitter } from 'node:events';
import type { MismatchKind } from '../domain/reconciliation.js';
import type { RunMode } from '../pg-store/rows.js';

/** What a run covers: the days [from, to) of every tenant and source, or of the one a range names. */
export interface RunWindow {
  from: Date;
  to: Date;
  tenantId?: string;
  source?: string;
}

export interface ReconcileEventMap {
  /** A run was recorded as started; an incremental run with no run before it is a full one (`mode`). */
  'run-started': [{ runId: string; mode: RunMode; trigger: 'schedule' | 'command'; worker: string; window: RunWindow }];
  /** A run finished and stored what it found: `scopes` redone, `days` summarised, mismatches by kind. */
  'run-finished': [
    {
      runId: string;
      mode: RunMode;
      trigger: 'schedule' | 'command';
      window: RunWindow;
      scopes: number;
      days: number;
      documents: number;
      mismatches: number;
      mismatchesByKind: Partial<Record<MismatchKind, number>>;
      durationMs: number;
    },
  ];
  /** A run stopped on an error (or was aborted) and was recorded with it. */
  'run-failed': [{ runId: string; mode: RunMode; trigger: 'schedule' | 'command'; error: unknown; durationMs: number }];
  /** The schedule's turn came while another processor holds the lease: it runs there, not here. */
  'lease-skipped': [{ worker: string }];
  /** A scheduled turn failed (taking the lease, or its run): the next interval tries again. */
  'schedule-failed': [{ error: unknown }];
}

export class ReconcileEvents extends EventEmitter<ReconcileEventMap> {}
