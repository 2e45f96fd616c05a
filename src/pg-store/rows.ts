// The shapes of PostgreSQL's rows, defined once: what the tables hold and what pg-store's reads return, for
// the services that call pg-store and the pure planners that decide what it writes.
import type { EventType } from '../domain/events.js';
import type { Direction, Transaction, TransactionStatus } from '../domain/transaction.js';

/** A `transactions` row, as pg-promise reads it (bigint ids, timestamps as Dates). */
export interface TransactionRecord {
  id: bigint;
  tenant_id: string;
  raw_id: string;
  source: string;
  external_id: string | null;
  /** Set on a provider object's row, the only rows with revisions. */
  provider_ref: string | null;
  supersedes: string | null;
  superseded_raw_id: string | null;
  account_id: bigint;
  counterparty_id: bigint | null;
  direction: Direction;
  amount_minor: bigint;
  currency: string;
  status: TransactionStatus;
  description: string | null;
  category: string | null;
  occurred_at: Date;
  booked_at: Date | null;
  received_at: Date;
  created_at: Date;
  metadata: Record<string, unknown>;
}

/** A row as the API reads it (transaction-view's ROW_COLUMNS): its account's reference, its counterparty's name and code. */
export type TransactionViewRow = Pick<
  TransactionRecord,
  | 'id'
  | 'tenant_id'
  | 'raw_id'
  | 'source'
  | 'external_id'
  | 'direction'
  | 'amount_minor'
  | 'currency'
  | 'status'
  | 'description'
  | 'category'
  | 'occurred_at'
  | 'booked_at'
  | 'received_at'
  | 'created_at'
  | 'metadata'
  | 'provider_ref'
> & { account: string; cp_name: string | null; cp_mcc: string | null };

/** A provider object's row as the revision writer reads (and locks) it. */
export type ProviderObjectRecord = Pick<
  TransactionRecord,
  | 'id'
  | 'tenant_id'
  | 'source'
  | 'raw_id'
  | 'account_id'
  | 'counterparty_id'
  | 'direction'
  | 'amount_minor'
  | 'currency'
  | 'status'
  | 'description'
  | 'category'
  | 'occurred_at'
  | 'booked_at'
  | 'supersedes'
  | 'metadata'
> & { provider_ref: string; revision_key: string[] | null; account: string; counterparty: string | null };

/** A row's fields as the revision planner compares them, with the party ids the batch's upserts resolved. */
export interface RowFields {
  accountId: bigint;
  account: string;
  counterpartyId: bigint | null;
  counterparty: string | null;
  direction: Direction;
  amountMinor: bigint;
  currency: string;
  status: TransactionStatus;
  description: string | null;
  category: string | null;
  occurredAt: Date;
  bookedAt: Date | null;
  supersedes: string | null;
  metadata: Record<string, unknown>;
}

/** A provider object's row as it is in PostgreSQL now. */
export interface CurrentRow extends RowFields {
  id: bigint;
  rawId: string;
  revisionKey: bigint[] | null;
}

/** A transaction with the account and counterparty ids the batch's upserts resolved: a row to insert. */
export type TransactionRow = { tx: Transaction; accountId: bigint; counterpartyId: bigint | null };

/** A webhook endpoint as its routes and its disabled event read it (never its secret). */
export interface EndpointRow {
  id: string;
  url: string;
  events: EventType[];
  enabled: boolean;
  created_at: Date;
  disabled_reason: string | null;
  failing_since: Date | null;
  last_error: string | null;
  /** Events posted to it at once: 1 keeps the feed's order, one at a time. */
  max_in_flight: number;
}

/** EndpointRow's columns. */
export const ENDPOINT_COLUMNS = 'id, url, events, enabled, created_at, disabled_reason, failing_since, last_error, max_in_flight';

/** A webhook endpoint as a deliverer leases it: where it posts, with what secrets, from where in the feed. */
export interface LeasedEndpoint {
  id: string;
  tenant_id: string;
  url: string;
  events: string[];
  secret: string;
  previous_secret: string | null;
  previous_secret_until: Date | null;
  cursor_txid: string;
  cursor_seq: string;
  attempts: number;
  failing_since: Date | null;
  next_attempt_at: Date | null;
  /** Events posted at once (1: one at a time, in the feed's order). */
  max_in_flight: number;
  /** A resend was asked for and not yet sent when the lease was taken: the turn reads them first. */
  resends_waiting: boolean;
}

/** One delivery attempt as webhook_deliveries holds it (besides its id, endpoint and time). */
export interface AttemptRow {
  event_id: string;
  /** The event's attempt number at this endpoint (1 for a resend). */
  attempt: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
  delay_ms: number | null;
  resend: boolean;
}

// Reconciliation's findings are the domain's words (domain/reconciliation.ts); the stored day extends them.
import type { DaySummary } from '../domain/reconciliation.js';

export type { DaySum, DaySummary, Mismatch, MismatchKind } from '../domain/reconciliation.js';

/** What a run redid: whole UTC days [from, to), of one tenant or all. */
export interface Scope {
  tenantId?: string;
  from: Date;
  to: Date;
}

/** A day as stored: its summary, its count of mismatches, when it was reconciled, and whether retention removed its documents since. */
export interface StoredDay extends DaySummary {
  mismatches: number;
  reconciledAt: string;
  retentionRemoved: boolean;
}

export interface StoredMismatch {
  id: string;
  kind: string;
  tenantId: string;
  source: string;
  day: string;
  detail: string;
  foundAt: string;
}

export interface RunView {
  id: string;
  mode: string;
  trigger: string;
  started_at: Date;
  finished_at: Date | null;
  days: number | null;
  documents: number | null;
  mismatches: number | null;
  error: string | null;
}

export type RunMode = 'full' | 'incremental' | 'range';

/** What reconciliation compares and sums: the same four fields of a row and of a document mapped again. */
export interface Amounted {
  direction: string;
  amount: string;
  currency: string;
  status: string;
}

/** A row as reconciliation reads it for a document: its amount as text, its provider reference if any. */
export interface ReconciledRow extends Amounted {
  id: string;
  raw_id: string;
  provider_ref: string | null;
}

/** A row as reconciliation's pass over the rows of a range reads it. */
export type RangeRow = Amounted & { id: string; raw_id: string; tenant_id: string; source: string; received_at: Date; created_at: Date };

/** Reconciliation's filter: received in [from, to), of a tenant and a source, or all. */
export interface RangeFilter {
  from: Date;
  to: Date;
  tenantId?: string;
  source?: string;
}
