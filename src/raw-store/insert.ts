// Stores what a client sent, one pending raw document per envelope, de-duplicated on (tenant, source,
// externalId), plus the payload's digest for a source whose documents are revisions of a provider object.
// The raw document is built here for every way one arrives (a POST, a batch, an entry of an uploaded
// statement: insert-statement.ts): the same fields in the same order, pending, no attempt, a random slot.
import { createHash, randomInt } from 'node:crypto';
import canonicalize from 'canonicalize';
import DataLoader from 'dataloader';
import { type Collection, MongoBulkWriteError, ObjectId } from 'mongodb';
import { withinAcceptDeadline } from '../db/mongo.js';
import { classifyMongoError, DUPLICATE_KEY, isDuplicateKey, RefusedWrite } from '../db/mongo-errors.js';
import { type Accepted, type Envelope, REVISED_SOURCES, storedPayloadBytes } from '../domain/envelope.js';
import { type RawTransaction, SLOTS } from './collections.js';

/**
 * [tenant, source, externalId] as JSON; for a revised source (Stripe, Plaid, camt) also the SHA-256 of the
 * payload as RFC 8785 canonical JSON, so the same snapshot sent twice is one document and a changed one is
 * a new revision.
 */
export function dedupKeyOf(tenantId: string, source: string, externalId: string, payload: Record<string, unknown>): string {
  if (!REVISED_SOURCES.has(source)) return JSON.stringify([tenantId, source, externalId]);
  const digest = createHash('sha256')
    .update(canonicalize(payload) ?? '')
    .digest('base64url');
  return JSON.stringify([tenantId, source, externalId, digest]);
}

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

/** The raw document of one envelope, as first stored (newRawDocument). */
export function newRawTransaction(tenantId: string, envelope: Envelope, receivedAt = new Date()): Omit<RawTransaction, '_id'> {
  return newRawDocument({
    tenantId,
    source: envelope.source,
    externalId: envelope.externalId ?? null,
    dedupKey: envelope.externalId ? dedupKeyOf(tenantId, envelope.source, envelope.externalId, envelope.payload) : undefined,
    payload: envelope.payload,
    bytes: storedPayloadBytes(envelope.payload),
    receivedAt,
  });
}

/** The documents already stored under these dedup keys, as a duplicate's answer: their id and status now. */
async function existing(raw: Collection<RawTransaction>, keys: string[]): Promise<Map<string, Accepted>> {
  const docs = await withinAcceptDeadline((bound) =>
    raw.find({ dedupKey: { $in: keys } }, { projection: { _id: 1, dedupKey: 1, status: 1 }, ...bound }).toArray(),
  );
  return new Map(docs.map((doc) => [doc.dedupKey!, { id: doc._id.toHexString(), duplicate: true, status: doc.status }]));
}

/** Stores one raw document and resolves with its id, or rejects with the server's error for that document. */
export type InsertOne = (doc: RawTransaction) => Promise<ObjectId>;

/**
 * Single documents stored together: those handed over before the next turn of the event loop's timers (at
 * most `maxDocs`) go to MongoDB as one unordered insertMany, each settling with its own outcome (a duplicate
 * key refuses its document only). Under concurrent POSTs this is one round trip and one command for many
 * requests instead of one each; a request alone is one insertOne. `maxDocs` 1: every document its own
 * insertOne, at once.
 *
 * The batch goes out from a timer, not from setImmediate: a socket the server (or a proxy) ends during the
 * poll phase is destroyed there but emits 'close' only in the close phase, after the check phase, and
 * mongodb 7.9.0 hands out such a connection and then waits for a 'drain' its write will never get
 * (docs/operations.md, "Time limits"). From setImmediate, a batch sent just after MongoDB went away fell in
 * that window in most runs; timers run after the close phase. The accept path's deadline
 * (withinAcceptDeadline) ends whatever window is left.
 */
export function createCoalescedInsert(raw: Collection<RawTransaction>, { maxDocs }: { maxDocs: number }): InsertOne {
  const insertAlone: InsertOne = async (doc) => (await withinAcceptDeadline((bound) => raw.insertOne(doc, bound))).insertedId;
  if (maxDocs <= 1) return insertAlone;
  const loader = new DataLoader<RawTransaction, ObjectId>((docs) => insertTogether(raw, insertAlone, docs), {
    cache: false,
    maxBatchSize: maxDocs,
    // Every request whose body arrived in this turn has reached its insert by then (see above).
    batchScheduleFn: (dispatch) => setTimeout(dispatch, 0),
  });
  return (doc) => loader.load(doc);
}

async function insertTogether(
  raw: Collection<RawTransaction>,
  insertAlone: InsertOne,
  docs: readonly RawTransaction[],
): Promise<Array<ObjectId | Error>> {
  if (docs.length === 1) {
    try {
      return [await insertAlone(docs[0]!)];
    } catch (error) {
      return [error instanceof Error ? error : new Error(String(error))];
    }
  }
  for (const doc of docs) doc._id ??= new ObjectId();
  try {
    await withinAcceptDeadline((bound) => raw.insertMany(docs as RawTransaction[], { ordered: false, ...bound }));
  } catch (error) {
    // Refusals of single documents settle those alone; anything else (network, write concern) is the batch's.
    if (!(error instanceof MongoBulkWriteError) || error.result.getWriteConcernError()) throw error;
    const refused = new Map([error.writeErrors].flat().map((writeError) => [writeError.index, writeError] as const));
    if (refused.size === 0) throw error;
    return docs.map((doc, index) => {
      const writeError = refused.get(index);
      return writeError ? new RefusedWrite(writeError) : doc._id;
    });
  }
  return docs.map((doc) => doc._id);
}

export async function insertRaw(
  insert: InsertOne,
  raw: Collection<RawTransaction>,
  tenantId: string,
  envelope: Envelope,
): Promise<Accepted> {
  const doc = newRawTransaction(tenantId, envelope) as RawTransaction;
  try {
    const insertedId = await insert(doc);
    return { id: insertedId.toHexString(), duplicate: false };
  } catch (error) {
    if (isDuplicateKey(error) && doc.dedupKey) {
      const stored = (await existing(raw, [doc.dedupKey]).catch(() => new Map<string, Accepted>())).get(doc.dedupKey);
      if (stored) return stored;
    }
    throw classifyMongoError(error);
  }
}

/** Many envelopes in one unordered bulk write; results in the same order, an error per refused item. */
export async function insertRawMany(
  raw: Collection<RawTransaction>,
  tenantId: string,
  envelopes: Envelope[],
): Promise<Array<Accepted | { error: string }>> {
  if (envelopes.length === 0) return [];
  const receivedAt = new Date();
  const docs = envelopes.map(
    (envelope) => ({ _id: new ObjectId(), ...newRawTransaction(tenantId, envelope, receivedAt) }) as RawTransaction,
  );
  const failed = new Map<number, unknown>();
  try {
    await withinAcceptDeadline((bound) => raw.insertMany(docs, { ordered: false, forceServerObjectId: false, ...bound }));
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw classifyMongoError(error);
    for (const writeError of [error.writeErrors].flat()) failed.set(writeError.index, writeError);
    if (failed.size === 0) throw classifyMongoError(error);
  }
  // Items refused for a duplicate (or repeated within this batch) answer with the stored document's id.
  const duplicateKeys = [...failed.entries()]
    .filter(([, e]) => (e as { code?: number }).code === DUPLICATE_KEY)
    .map(([i]) => docs[i]!.dedupKey!)
    .filter(Boolean);
  let stored = new Map<string, Accepted>();
  try {
    if (duplicateKeys.length) stored = await existing(raw, duplicateKeys);
  } catch (error) {
    throw classifyMongoError(error);
  }
  return docs.map((doc, index) => {
    if (!failed.has(index)) return { id: doc._id.toHexString(), duplicate: false };
    return (doc.dedupKey ? stored.get(doc.dedupKey) : undefined) ?? { error: 'MongoDB rejected the document' };
  });
}
