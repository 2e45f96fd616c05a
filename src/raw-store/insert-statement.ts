// Stores an uploaded camt.053 file (as sent, in GridFS), its statements document (each statement's shared
// parts, once) and one raw document per entry; the same statements sent again add nothing, and a send cut
// half-way is completed by the next, which replaces a partial file rather than adding a copy.
import { randomUUID } from 'node:crypto';
import { ObjectId, type OperationOptions } from 'mongodb';
import { withinDeadline } from '../db/mongo.js';
import { classifyMongoError, DUPLICATE_KEY, isDuplicateKey } from '../db/mongo-errors.js';
import type { CamtDocument, CamtStatement } from '../domain/camt053-xml.js';
import { type Accepted, MAX_STORED_PAYLOAD_BYTES } from '../domain/envelope.js';
import { DocumentTooLargeError, TransientError } from '../domain/errors.js';
import type { RawTransaction, StatementCollections, StatementFile } from './collections.js';
import { newRawDocument } from './insert.js';
import {
  completeDocumentBytes,
  type Lease,
  type SizedPart,
  sizedPartsOf,
  statementKeyOf,
  statementsDocument,
  uploadKeyOf,
} from './measure-statement.js';
import { storeStatementFile } from './statement-files.js';

/** Entries inserted per bulk write. */
const CHUNK = 1_000;
/** STATEMENT_STORE_TIMEOUT_MS's default, for callers without settings. */
export const STATEMENT_STORE_TIMEOUT_MS = 30_000;
const RELEASE_TIMEOUT_MS = 2_000;

/** The de-duplication key of a statement's entry: the statement and the entry's place in it. */
const entryDedupKeyOf = (tenantId: string, stmt: Pick<CamtStatement, 'accountRef' | 'id'>, index: number) =>
  JSON.stringify([tenantId, 'camt.053', ...statementKeyOf(stmt), index]);

/** The raw documents of a statement's entries (docs/model.md), keyed by the statement and their place in it. */
function entryDocuments(
  tenantId: string,
  statementDoc: Pick<StatementFile, '_id' | 'receivedAt'>,
  stmt: CamtStatement,
  parts: SizedPart[],
  statementPart: number,
): RawTransaction[] {
  // The account is not in them: it is the statement's, stored once in its statements document.
  return parts.map(({ payload, bytes }, index) => ({
    // Given here, so the statement knows its entries' ids without reading them back.
    _id: new ObjectId(),
    ...newRawDocument({
      tenantId,
      source: 'iso20022',
      externalId: null,
      dedupKey: entryDedupKeyOf(tenantId, stmt, index),
      payload,
      bytes,
      receivedAt: statementDoc.receivedAt,
      statement: { id: statementDoc._id, part: statementPart },
    }),
  }));
}

/**
 * Inserts what is missing; entries already stored (an earlier, interrupted send) are left as they are.
 * Returns the ids of the entries in file order: those inserted now as given, the others read by their key.
 */
async function insertEntries(
  store: StatementCollections,
  docs: RawTransaction[],
  bound: OperationOptions,
): Promise<Array<ObjectId | null>> {
  const earlier = new Set<number>();
  for (let i = 0; i < docs.length; i += CHUNK) {
    try {
      await store.raw.insertMany(docs.slice(i, i + CHUNK), { ...bound, ordered: false });
    } catch (error) {
      const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
      const all = (writeErrors === undefined ? [] : [writeErrors].flat()) as Array<{ code?: unknown; index?: number }>;
      // A bulk write's errors are WriteErrors, not server errors: their code says which were duplicates.
      if (all.length === 0 || !all.every((e) => e.code === DUPLICATE_KEY)) throw error;
      for (const e of all) earlier.add(i + e.index!);
    }
  }
  if (earlier.size === 0) return docs.map((doc) => doc._id);
  const keys = [...earlier].map((index) => docs[index]!.dedupKey!);
  const found = await store.raw.find({ dedupKey: { $in: keys } }, { ...bound, projection: { _id: 1, dedupKey: 1 } }).toArray();
  const byKey = new Map(found.map((r) => [r.dedupKey!, r._id]));
  // An entry that was a duplicate and is gone since (retention) is what entryIds calls null.
  return docs.map((doc, index) => (earlier.has(index) ? (byKey.get(doc.dedupKey!) ?? null) : doc._id));
}

export interface InsertStatementOptions {
  /** One deadline for all of it (STATEMENT_STORE_TIMEOUT_MS): the file, every entry, the completion. */
  timeoutMs?: number;
}

/**
 * Stores the upload under one deadline: past it, a 503 (a TransientError) and nothing marked complete. The
 * statements document is marked complete only once its file is whole and every entry stored; until then the
 * send holds the document's `storing` lease (until the deadline), so two sends never write one file at once.
 */
export async function insertStatement(
  store: StatementCollections,
  tenantId: string,
  file: CamtDocument,
  xml: string,
  { timeoutMs = STATEMENT_STORE_TIMEOUT_MS }: InsertStatementOptions = {},
): Promise<Accepted> {
  const key = uploadKeyOf(tenantId, file);
  const lease = { token: randomUUID(), until: new Date(Date.now() + timeoutMs) };
  const sizedParts = await sizedPartsOf(file);
  const fresh = statementsDocument(tenantId, file, xml, lease);
  refuseOversized(file, sizedParts, fresh);
  let leased: ObjectId | undefined;
  try {
    return await withinDeadline(timeoutMs, async (bound) => {
      const found = await store.statements.findOne({ key }, bound);
      if (found?.complete) return { id: found._id.toHexString(), duplicate: true };
      const doc = found
        ? await takeLease(store, found, file, fresh, lease, bound)
        : await createStatement(store, key, fresh, file, lease, bound);
      if (doc.complete) return { id: doc._id.toHexString(), duplicate: true };
      leased = doc._id;
      const fileId = await storeStatementFile(store.db, doc._id, xml, bound);
      // The entries' ids, kept with the statement in its order: its entries still read their rows once retention removed them.
      const byPart: Array<Array<ObjectId | null>> = [];
      for (const [i, stmt] of file.statements.entries()) {
        const part = partOf(doc, stmt);
        byPart[part] = await insertEntries(store, entryDocuments(tenantId, doc, stmt, sizedParts[i]!, part), bound);
      }
      const entryIds = doc.statements.flatMap((_, part) => byPart[part] ?? []);
      // eventPending: its statement.processed event is recorded once every entry is (processor/statement-events.ts).
      const { matchedCount } = await store.statements.updateOne(
        { _id: doc._id, 'storing.token': lease.token },
        { $set: { complete: true, fileId, entryIds, eventPending: true }, $unset: { storing: '' } },
        bound,
      );
      if (matchedCount === 0) throw new TransientError('statement_lease_lost', 'the statement was taken over by another send');
      leased = undefined;
      return { id: doc._id.toHexString(), duplicate: false };
    });
  } catch (error) {
    // Another send may store it at once, rather than once the lease runs out; if MongoDB is gone, it does then.
    if (leased) void releaseLease(store, leased, lease.token);
    throw classifyMongoError(error);
  }
}

/** The raw document ids of the statements' entries, in file order (whichever send stored each). */
export async function entryIdsOf(
  store: StatementCollections,
  tenantId: string,
  statements: Array<Pick<StatementFile['statements'][number], 'id' | 'accountRef' | 'entryCount'>>,
  options: OperationOptions = {},
): Promise<Array<ObjectId | null>> {
  const keys = statements.flatMap((stmt) => Array.from({ length: stmt.entryCount }, (_, i) => entryDedupKeyOf(tenantId, stmt, i)));
  const found = await store.raw.find({ dedupKey: { $in: keys }, tenantId }, { ...options, projection: { _id: 1, dedupKey: 1 } }).toArray();
  const byKey = new Map(found.map((r) => [r.dedupKey!, r._id]));
  return keys.map((key) => byKey.get(key) ?? null);
}

/**
 * Refuses (413) an upload one of whose documents MongoDB could not store, before anything of it is stored: an
 * entry's payload over what a raw document holds (as a single POST's is), or the statements document as it
 * will be once complete (its entries' ids in it) over MongoDB's 16 MiB, less the same room. The parser's
 * limits on what the file spans keep most such files out; these are the sizes MongoDB counts, whatever the
 * file's shape (BSON names every item of a list, so a list of tiny elements grows when stored).
 */
function refuseOversized(file: CamtDocument, sizedParts: SizedPart[][], doc: Omit<StatementFile, '_id'>): void {
  const atMost = `at most ${MAX_STORED_PAYLOAD_BYTES} (MongoDB stores 16 MiB per document)`;
  for (const [part, parts] of sizedParts.entries()) {
    const index = parts.findIndex(({ bytes }) => bytes > MAX_STORED_PAYLOAD_BYTES);
    if (index < 0) continue;
    throw new DocumentTooLargeError(
      `Entry ${index + 1} (<Ntry>) of statement ${file.statements[part]!.id} is ${parts[index]!.bytes} bytes as stored (BSON); one entry's document can hold ${atMost}.`,
    );
  }
  const entries = sizedParts.reduce((n, parts) => n + parts.length, 0);
  const bytes = doc.bytes ?? completeDocumentBytes(doc, entries);
  if (bytes > MAX_STORED_PAYLOAD_BYTES) {
    throw new DocumentTooLargeError(
      `The file's statements (their identifications, accounts and balances) and their ${entries} entries' ids come to ${bytes} bytes as stored (BSON); the statements document of one upload can hold ${atMost}. Send the statements in several files.`,
    );
  }
}

/** The first send creates the statements document, its shared parts in it, and holds its lease. */
async function createStatement(
  store: StatementCollections,
  key: string,
  doc: Omit<StatementFile, '_id'>,
  file: CamtDocument,
  lease: Lease,
  bound: OperationOptions,
): Promise<StatementFile> {
  try {
    const { insertedId } = await store.statements.insertOne(doc as StatementFile, bound);
    return { ...doc, _id: insertedId };
  } catch (error) {
    // Sent twice at once: the other send created it.
    if (!isDuplicateKey(error)) throw error;
    const existing = await store.statements.findOne({ key }, bound);
    if (!existing) throw error;
    return existing.complete ? existing : takeLease(store, existing, file, doc, lease, bound);
  }
}

/**
 * A later send of an incomplete upload takes its lease, unless another send holds it now (a 503: retry). It
 * stores each statement's account (an upload of an earlier release has none) before any entry that needs it.
 */
async function takeLease(
  store: StatementCollections,
  doc: StatementFile,
  file: CamtDocument,
  fresh: Pick<StatementFile, 'fileBytes' | 'bytes'>,
  lease: Lease,
  bound: OperationOptions,
): Promise<StatementFile> {
  const accounts = Object.fromEntries(file.statements.map((stmt) => [`statements.${partOf(doc, stmt)}.account`, stmt.account]));
  // This send's file is written again if the sweep removed it: the stored-statement quota counts it again.
  const { fileBytes, bytes } = fresh;
  const { matchedCount } = await store.statements.updateOne(
    { _id: doc._id, complete: false, $or: [{ storing: null }, { 'storing.until': { $lte: new Date() } }] },
    // Its entries are stored from now: their statement is kept from now too (retain-statements.ts).
    { $set: { storing: lease, fileBytes, bytes, ...accounts }, $unset: { abandoned: '' }, $max: { retainFrom: new Date() } },
    bound,
  );
  if (matchedCount === 1) return { ...doc, storing: lease };
  const now = await store.statements.findOne({ _id: doc._id }, bound);
  if (now?.complete) return now;
  throw new TransientError('statement_busy', 'the same statements are being stored by another request');
}

/** Where the statement stands in the statements document (by account and Stmt/Id: a later send may order them otherwise). */
function partOf(doc: Pick<StatementFile, 'statements'>, stmt: CamtStatement): number {
  const part = doc.statements.findIndex((s) => s.accountRef === stmt.accountRef && s.id === stmt.id);
  if (part < 0) throw new Error(`statement ${stmt.id} of ${stmt.accountRef} is not in its statements document`);
  return part;
}

/** Gives the lease back after a failure, under a deadline of its own; a failure here only means waiting it out. */
async function releaseLease(store: StatementCollections, id: ObjectId, token: string): Promise<void> {
  await withinDeadline(
    RELEASE_TIMEOUT_MS,
    (bound) => store.statements.updateOne({ _id: id, 'storing.token': token }, { $unset: { storing: '' } }, bound),
    'releasing a statement',
  ).catch(() => undefined);
}
