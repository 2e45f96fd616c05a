// A raw document as it is first stored, built in one place for every way one arrives (a POST, a batch, an
// entry of an uploaded statement): the same fields in the same order, pending, no attempt, a random slot.
import { randomInt } from 'node:crypto';
import type { ObjectId } from 'mongodb';
import { type RawTransaction, SLOTS } from './collections.js';

export interface NewRawFields {
  tenantId: string;
  source: string;
  externalId: string | null;
  /** Absent: nothing de-duplicates the document (no externalId). */
  dedupKey?: string | undefined;
  payload: Record<string, unknown>;
  /** The payload's size as stored (BSON bytes). */
  bytes: number;
  receivedAt: Date;
  /** An entry of an uploaded statement: its statements document and which of its statements it is in. */
  statement?: { id: ObjectId; part: number } | undefined;
}

/** A document's hash slot: uniform, so each processor of a group gets its share of any tenant's documents. */
export const randomSlot = () => randomInt(SLOTS);

export function newRawDocument({
  tenantId,
  source,
  externalId,
  dedupKey,
  payload,
  bytes,
  receivedAt,
  statement,
}: NewRawFields): Omit<RawTransaction, '_id'> {
  return {
    tenantId,
    source,
    externalId,
    ...(dedupKey === undefined ? {} : { dedupKey }),
    payload,
    bytes,
    receivedAt,
    processed: false,
    status: 'pending',
    attempts: 0,
    slot: randomSlot(),
    ...(statement ? { statementId: statement.id, statementPart: statement.part } : {}),
  };
}
