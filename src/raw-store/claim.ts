// Leases raw documents to one worker, at most a byte budget of them: one updateMany sets a fresh token on
// those still claimable, then the documents carrying it are read back.

import { randomUUID } from 'node:crypto';
import { BSON, type Collection, type FindCursor, ObjectId } from 'mongodb';
import type { Bound } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';
import { claimableFilter, NO_LEASE } from './states.js';

export interface ClaimedRaw {
  id: string;
  attempts: number;
  receivedAt: Date;
  raw: RawTransaction;
  /** The document's size as stored (BSON bytes). */
  bytes: number;
}

export interface ClaimOptions {
  worker: string;
  leaseMs: number;
  /** The most document bytes (BSON) one claim holds; the first document is taken whatever its size. */
  maxBytes?: number;
}

/**
 * Each document update is atomic, so of two racing workers only one sets its token on a document. The read-
 * back stops at the byte budget: documents are read as the BSON the server sent, counted, and decoded; once
 * the next one would pass `maxBytes`, the rest are given back at once (their leases cleared) for a later
 * batch. So a batch holds at most `maxBytes` of documents (or its first document, when that alone is larger)
 * whatever the documents weigh, and the processor's memory is bounded in bytes, not only in documents.
 */
export async function claimBatch(
  raw: Collection<RawTransaction>,
  ids: string[],
  { worker, leaseMs, maxBytes = Number.POSITIVE_INFINITY }: ClaimOptions,
  /** A deadline for the claim's operations (db/mongo.ts): aborted after the update, its documents wait out their lease. */
  bound?: Bound,
): Promise<ClaimedRaw[]> {
  const leaseToken = randomUUID();
  const now = new Date();
  const taken: ClaimedRaw[] = [];
  let overBudget = false;
  try {
    await raw.updateMany(
      { _id: { $in: ids.map((id) => new ObjectId(id)) }, ...claimableFilter(now) },
      { $set: { leaseOwner: worker, leaseUntil: new Date(now.getTime() + leaseMs), leaseToken } },
      { ...bound },
    );
    // raw: each document arrives as its BSON bytes, so its size is known before it is decoded. One reply
    // for all the ids (the server cuts it at 16 MiB): the caller sized `ids` to the budget, and a default
    // first batch of 101 documents would cost a 500-id claim of small documents a second round trip.
    const cursor = raw.find({ leaseToken }, { raw: true, batchSize: ids.length, ...bound }) as unknown as FindCursor<Uint8Array>;
    let bytes = 0;
    for await (const document of cursor) {
      if (taken.length > 0 && bytes + document.byteLength > maxBytes) {
        overBudget = true;
        break; // closes the cursor
      }
      bytes += document.byteLength;
      const doc = BSON.deserialize(document) as RawTransaction;
      taken.push({
        id: doc._id.toHexString(),
        attempts: doc.attempts ?? 0,
        receivedAt: doc.receivedAt,
        raw: doc,
        bytes: document.byteLength,
      });
    }
  } catch (error) {
    throw classifyMongoError(error);
  }
  if (overBudget) await giveBack(raw, leaseToken, taken);
  return taken;
}

/**
 * Clears this claim's lease on the documents it did not take, so the next sweep offers them again. A
 * failure here costs those documents one lease period (they wait for it to expire), never correctness,
 * and must not cost the documents already taken: it is not thrown.
 */
async function giveBack(raw: Collection<RawTransaction>, leaseToken: string, taken: ClaimedRaw[]): Promise<void> {
  await raw.updateMany({ leaseToken, _id: { $nin: taken.map((doc) => doc.raw._id) } }, { $set: NO_LEASE }).catch(() => undefined);
}
