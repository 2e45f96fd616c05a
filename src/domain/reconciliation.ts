// What reconciliation finds, in words every room shares: the run computes it (reconcile/), PostgreSQL keeps
// it, the admin API shows it, /metrics counts it by kind; so it lives here rather than in any one of them.

export const MISMATCH_KINDS = [
  'processed-without-row',
  'row-without-processed-document',
  'differs-from-document',
  'duplicate-provider-object',
  'row-without-document',
  'waiting-too-long',
] as const;
export type MismatchKind = (typeof MISMATCH_KINDS)[number];

export interface Mismatch {
  id: string;
  kind: MismatchKind;
  tenantId: string;
  source: string;
  /** The UTC day it belongs to: its document's receivedAt, or the row's received_at. */
  day: string;
  detail: string;
}

export interface DaySummary {
  day: string;
  tenantId: string;
  source: string;
  accepted: number;
  processed: number;
  failed: number;
  dead: number;
  waiting: number;
  oldestWaitingAt: string | null;
  rows: number;
  /** Processed documents another row accounts for: revisions of a provider object, removals (which void a
   * row), pending rows replaced by their posted one, external ids resent (aliases). */
  revisions: number;
  voids: number;
  replaced: number;
  aliases: number;
  /** Per currency and direction, the live rows' amounts against what their documents say, in minor units. */
  sums: DaySum[];
}

export interface DaySum {
  currency: string;
  direction: string;
  rowsMinor: string;
  documentsMinor: string;
}
