// Statement files as sent (GridFS) are kept RETENTION_STATEMENTS_SECONDS from upload (nothing reads them back:
// entries map from the statements document). Chunks have no date, so their files are found by upload date
// and removed chunks first, so that an interrupted run leaves no chunk unowned.
import type { Db, ObjectId } from 'mongodb';
import { classifyMongoError } from '../db/mongo-errors.js';
import { STATEMENT_FILES_BUCKET } from './collections.js';

/** Files removed per round: one find, two deletes. */
const PAGE = 500;

const filesOf = (db: Db) => db.collection<{ _id: ObjectId; uploadDate: Date }>(`${STATEMENT_FILES_BUCKET}.files`);
const chunksOf = (db: Db) => db.collection<{ files_id: ObjectId }>(`${STATEMENT_FILES_BUCKET}.chunks`);

/** The index the sweep finds files by (GridFS's own on the files leads with the file name); a no-op when present. */
export async function ensureStatementFileIndexes(db: Db): Promise<void> {
  await filesOf(db).createIndex({ uploadDate: 1 }, { name: 'by_upload' });
}

/**
 * Removes the statement files uploaded before `before`, with their chunks; returns how many files. A file
 * is uploaded after its statement document is created, so it goes no earlier than a statement whose entries
 * all settled at once (TTL index on retainFrom).
 */
export async function removeExpiredStatementFiles(db: Db, before: Date): Promise<number> {
  let removed = 0;
  try {
    for (;;) {
      const page = await filesOf(db)
        .find({ uploadDate: { $lt: before } }, { projection: { _id: 1 }, limit: PAGE })
        .toArray();
      if (page.length === 0) return removed;
      const ids = page.map((file) => file._id);
      await chunksOf(db).deleteMany({ files_id: { $in: ids } });
      removed += (await filesOf(db).deleteMany({ _id: { $in: ids } })).deletedCount;
      if (page.length < PAGE) return removed;
    }
  } catch (error) {
    throw classifyMongoError(error);
  }
}
