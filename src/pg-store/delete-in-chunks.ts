// Retention deletes old rows ten thousand at a time, so that no statement holds many locks or runs long.
import type { Database } from '../db/postgres.js';

const CHUNK = 10_000;

/**
 * Deletes the rows a statement selects, `CHUNK` at a time (the statement takes the chunk size as its last
 * parameter), until a chunk comes back short; returns how many.
 */
export async function deleteInChunks(db: Database, sql: string, values: unknown[]): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await db.result(sql, [...values, CHUNK]);
    deleted += rowCount;
    if (rowCount < CHUNK) return deleted;
  }
}
