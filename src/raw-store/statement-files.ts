// An uploaded statement's file as sent, in the statement_files GridFS bucket, written here rather than by
// the driver's upload stream: its writes take no AbortSignal (and its timeoutMS is a no-op in mongodb 7), so
// a stalled server would hold the upload past any deadline. The layout is GridFS's, so GridFSBucket reads it.
import { calculateObjectSize } from 'bson';
import { Binary, type Db, type Document, ObjectId, type OperationOptions } from 'mongodb';
import { STATEMENT_FILES_BUCKET } from './collections.js';

/** The driver's default chunk size (255 KiB): a chunk document well under 16 MiB. */
const CHUNK_BYTES = 255 * 1024;
/** Chunks per insertMany: 4 MiB a command, so a deadline ends an upload between commands, not after it. */
const CHUNKS_PER_WRITE = 16;

interface FileDoc {
  _id: ObjectId;
  length: number;
  chunkSize: number;
  uploadDate: Date;
  filename: string;
  metadata?: { statementId?: ObjectId; contentType?: string };
}

interface ChunkDoc {
  _id: ObjectId;
  files_id: ObjectId;
  n: number;
  data: Binary;
}

export const statementFileCollections = (db: Db) => ({
  files: db.collection<FileDoc>(`${STATEMENT_FILES_BUCKET}.files`),
  chunks: db.collection<ChunkDoc>(`${STATEMENT_FILES_BUCKET}.chunks`),
});

/**
 * The bucket's indexes: GridFS's own (one chunk per (file, n), which also keeps a stale write of a failed send
 * from doubling one), and the upload date the retention sweep finds expired files by
 * (remove-expired-statement-files.ts).
 */
export async function ensureGridFsIndexes(db: Db): Promise<void> {
  const { files, chunks } = statementFileCollections(db);
  await chunks.createIndex({ files_id: 1, n: 1 }, { name: 'files_id_1_n_1', unique: true });
  await files.createIndex({ filename: 1, uploadDate: 1 }, { name: 'filename_1_uploadDate_1' });
  await files.createIndex({ uploadDate: 1 }, { name: 'by_upload' });
}

/**
 * Stores the file under the statement's own id, so each send of one statement writes the same file: one that
 * is complete (its files document written, after all its chunks, and every chunk there) is kept; whatever a
 * failed send left (chunks without a files document, a files document short of chunks, an earlier release's
 * copies) is removed first and the file written again. The caller holds the statement's `storing` lease, so
 * no other send writes it meanwhile. Every operation takes `options` (the upload's deadline).
 */
export async function storeStatementFile(db: Db, statementId: ObjectId, xml: string, options: OperationOptions): Promise<ObjectId> {
  const { files, chunks } = statementFileCollections(db);
  const stored = await files.findOne({ _id: statementId }, options);
  if (stored && (await chunks.countDocuments({ files_id: statementId }, options)) === chunkCount(stored.length, stored.chunkSize)) {
    return statementId;
  }
  await removeStatementFiles(db, statementId, options);
  const data = Buffer.from(xml, 'utf8');
  const count = chunkCount(data.length, CHUNK_BYTES);
  for (let first = 0; first < count; first += CHUNKS_PER_WRITE) {
    const docs: ChunkDoc[] = [];
    for (let n = first; n < Math.min(count, first + CHUNKS_PER_WRITE); n++)
      docs.push({ _id: new ObjectId(), files_id: statementId, n, data: new Binary(data.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES)) });
    await chunks.insertMany(docs, options);
  }
  // Written last: a files document says its chunks are all there.
  await files.insertOne(
    {
      _id: statementId,
      length: data.length,
      chunkSize: CHUNK_BYTES,
      uploadDate: new Date(),
      filename: `${statementId.toHexString()}.xml`,
      metadata: { statementId, contentType: 'application/xml' },
    },
    options,
  );
  return statementId;
}

/** Removes every file of the statement, whole or partial: its own id's, and copies earlier releases wrote under other ids. */
export async function removeStatementFiles(db: Db, statementId: ObjectId, options: OperationOptions = {}): Promise<void> {
  const { files, chunks } = statementFileCollections(db);
  const copies = await files.find({ 'metadata.statementId': statementId } as Document, { ...options, projection: { _id: 1 } }).toArray();
  const ids = [statementId, ...copies.map((copy) => copy._id).filter((id) => !id.equals(statementId))];
  // The files documents first: a files document never stands without its chunks.
  await files.deleteMany({ _id: { $in: ids } }, options);
  await chunks.deleteMany({ files_id: { $in: ids } }, options);
}

const chunkCount = (length: number, chunkSize: number) => Math.ceil(length / chunkSize);

/** What a file of `length` bytes takes in the bucket (BSON): its bytes, each chunk document's own fields, its files document. */
export function storedFileBytes(length: number): number {
  const id = new ObjectId();
  const chunk = calculateObjectSize({ _id: id, files_id: id, n: 0, data: new Binary(Buffer.alloc(0)) });
  const file = calculateObjectSize({
    _id: id,
    length,
    chunkSize: CHUNK_BYTES,
    uploadDate: new Date(),
    filename: `${id.toHexString()}.xml`,
    metadata: { statementId: id, contentType: 'application/xml' },
  });
  return length + chunkCount(length, CHUNK_BYTES) * chunk + file;
}
