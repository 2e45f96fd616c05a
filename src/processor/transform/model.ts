// The structured transaction every source is mapped into before it reaches PostgreSQL.
export type Direction = 'debit' | 'credit';

export interface Transaction {
  rawId: string;
  tenantId: string;
  source: string;
  externalId: string | null;
  /** The tenant's own reference for the account; resolved to an `accounts` row when written. */
  accountRef: string;
  direction: Direction;
  /** Always non-negative: the direction carries the sign. */
  amountMinor: bigint;
  currency: string;
  description: string | null;
  occurredAt: Date;
  receivedAt: Date;
  metadata: Record<string, unknown>;
}

/** What a source mapper sees of a raw document. */
export interface RawInput {
  rawId: string;
  tenantId: string;
  source: string;
  externalId: string | null;
  payload: Record<string, unknown>;
  receivedAt: Date;
}

/** Maps one source's payload to a transaction; throws a PermanentError naming the field it rejects. */
export type SourceMapper = (raw: RawInput) => Transaction;
