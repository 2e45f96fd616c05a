// Statement files as sent (GridFS) are kept RETENTION_STATEMENTS_SECONDS from upload (nothing reads them back:
// entries map from the statements document). Chunks have no date, so their files are found by upload date
// and removed chunks first, so that an interrupted run leaves no chunk unowned.
import type { Db } from 'mongodb';
import { classifyMongoError } from '../db/mongo-errors.js';
import { STATEMENTS_COLLECTION, type StatementFile } from './collections.js';
import { statementFileCollections } from './statement-files.js';

/** Files removed per round: one find, two deletes. */
const PAGE = 500;

/**
 * Removes the statement files uploaded before `before`, with their chunks; returns how many files. A file
 * is uploaded after its statement document is created, so it goes no earlier than a statement whose entries
 * all settled at once (TTL index on retainFrom).
 */
export async function removeExpiredStatementFiles(db: Db, before: Date): Promise<number> {
  const { files, chunks } = statementFileCollections(db);
  let removed = 0;
  try {
    for (;;) {
      const page = await files.find({ uploadDate: { $lt: before } }, { projection: { _id: 1 }, limit: PAGE }).toArray();
      if (page.length === 0) return removed;
      const ids = page.map((file) => file._id);
      // The tenant's stored-statement quota is released first (a file is stored under its statement's id): a
      // run cut here leaves a file uncounted until the next run removes it, never one counted for ever.
      await db.collection<StatementFile>(STATEMENTS_COLLECTION).updateMany({ _id: { $in: ids } }, { $set: { fileBytes: 0 } });
      await chunks.deleteMany({ files_id: { $in: ids } });
      removed += (await files.deleteMany({ _id: { $in: ids } })).deletedCount;
      if (page.length < PAGE) return removed;
    }
  } catch (error) {
    throw classifyMongoError(error);
  }
}
