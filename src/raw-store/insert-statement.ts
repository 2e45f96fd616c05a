// Stores an uploaded camt.053 file (as sent, in GridFS), its statements document and one raw document per
// entry; the same statements sent again add nothing, and a send cut half-way is completed by the next.
import { GridFSBucket, type ObjectId } from 'mongodb';
import { classifyMongoError, DUPLICATE_KEY, isDuplicateKey } from '../db/mongo-errors.js';
import { type CamtDocument, type CamtStatement, entryPayloads } from '../domain/camt053-xml.js';
import { type Accepted, storedPayloadBytes } from '../domain/envelope.js';
import type { RawTransaction, StatementCollections, StatementFile } from './collections.js';
import { randomSlot } from './insert.js';

/** Entries inserted per bulk write. */
const CHUNK = 1_000;

/** A statement's identity: its account and Stmt/Id, whatever the file's version. */
const statementKeyOf = (stmt: Pick<CamtStatement, 'accountRef' | 'id'>) => [stmt.accountRef, stmt.id] as const;

/** The de-duplication key of a statement's entry: the statement and the entry's place in it. */
const entryDedupKeyOf = (tenantId: string, stmt: Pick<CamtStatement, 'accountRef' | 'id'>, index: number) =>
  JSON.stringify([tenantId, 'camt.053', ...statementKeyOf(stmt), index]);

/** The raw documents of a statement's entries (docs/model.md), keyed by the statement and their place in it. */
function entryDocuments(
  tenantId: string,
  statementDocId: ObjectId,
  stmt: CamtStatement,
  receivedAt: Date,
): Array<Omit<RawTransaction, '_id'>> {
  return entryPayloads(stmt).map((payload, index) => ({
    tenantId,
    source: 'iso20022',
    externalId: null,
    dedupKey: entryDedupKeyOf(tenantId, stmt, index),
    payload,
    bytes: storedPayloadBytes(payload),
    receivedAt,
    processed: false,
    status: 'pending',
    attempts: 0,
    slot: randomSlot(),
    statementId: statementDocId,
  }));
}

/** Inserts what is missing; entries already stored (an earlier, interrupted send) are left as they are. */
async function insertEntries(raw: StatementCollections['raw'], docs: Array<Omit<RawTransaction, '_id'>>): Promise<void> {
  for (let i = 0; i < docs.length; i += CHUNK) {
    try {
      await raw.insertMany(docs.slice(i, i + CHUNK) as RawTransaction[], { ordered: false });
    } catch (error) {
      const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
      const all = writeErrors === undefined ? [] : [writeErrors].flat();
      // A bulk write's errors are WriteErrors, not server errors: their code says which were duplicates.
      if (all.length === 0 || !all.every((e) => (e as { code?: unknown }).code === DUPLICATE_KEY)) throw error;
    }
  }
}

export async function insertStatement(store: StatementCollections, tenantId: string, file: CamtDocument, xml: string): Promise<Accepted> {
  const key = JSON.stringify([tenantId, ...file.statements.map(statementKeyOf).sort()]);
  try {
    let doc = await store.statements.findOne({ key });
    if (doc?.complete) return { id: doc._id.toHexString(), duplicate: true };
    if (!doc) doc = await createStatement(store, tenantId, key, file);
    if (!doc.fileId) doc.fileId = await storeFile(store, doc._id, xml);
    for (const stmt of file.statements) await insertEntries(store.raw, entryDocuments(tenantId, doc._id, stmt, doc.receivedAt));
    // The entries' ids, kept with the statement: its entries still read their rows once retention removed them.
    const entryIds = await entryIdsOf(store, tenantId, doc.statements);
    // eventPending: its statement.processed event is recorded once every entry is (processor/statement-events.ts).
    await store.statements.updateOne({ _id: doc._id }, { $set: { complete: true, fileId: doc.fileId, entryIds, eventPending: true } });
    return { id: doc._id.toHexString(), duplicate: false };
  } catch (error) {
    throw classifyMongoError(error);
  }
}

/** The raw document ids of the statements' entries, in file order (whichever send stored each). */
export async function entryIdsOf(
  store: StatementCollections,
  tenantId: string,
  statements: StatementFile['statements'],
): Promise<Array<ObjectId | null>> {
  const keys = statements.flatMap((stmt) => Array.from({ length: stmt.entryCount }, (_, i) => entryDedupKeyOf(tenantId, stmt, i)));
  const found = await store.raw.find({ dedupKey: { $in: keys }, tenantId }, { projection: { _id: 1, dedupKey: 1 } }).toArray();
  const byKey = new Map(found.map((r) => [r.dedupKey!, r._id]));
  return keys.map((key) => byKey.get(key) ?? null);
}

async function createStatement(store: StatementCollections, tenantId: string, key: string, file: CamtDocument): Promise<StatementFile> {
  const doc = {
    tenantId,
    key,
    version: file.version,
    messageId: file.messageId,
    statements: file.statements.map((s) => ({ id: s.id, accountRef: s.accountRef, entryCount: s.entries.length, balances: s.balances })),
    receivedAt: new Date(),
    fileId: null,
    complete: false,
  };
  try {
    const { insertedId } = await store.statements.insertOne(doc as StatementFile);
    return { ...doc, _id: insertedId };
  } catch (error) {
    // Sent twice at once: the other send created it.
    if (!isDuplicateKey(error)) throw error;
    const existing = await store.statements.findOne({ key });
    if (!existing) throw error;
    return existing;
  }
}

/** The file as sent, in GridFS under the statement's id. */
async function storeFile(store: StatementCollections, statementId: ObjectId, xml: string): Promise<ObjectId> {
  const bucket = new GridFSBucket(store.db, { bucketName: 'statement_files' });
  const upload = bucket.openUploadStream(`${statementId.toHexString()}.xml`, { metadata: { statementId, contentType: 'application/xml' } });
  await new Promise<void>((resolve, reject) => {
    upload.once('error', reject);
    upload.end(Buffer.from(xml, 'utf8'), () => resolve());
  });
  return upload.id;
}
