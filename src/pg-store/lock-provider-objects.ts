// Serialises batches touching the same provider objects until commit, so revisions of one object (or a posted
// row and its pending one, a removal and its row) written concurrently meet one after the other.
import type { Task } from '../db/postgres.js';

/** Takes the transaction-scoped advisory lock of each key (sorted, so concurrent batches never deadlock). */
export async function lockProviderObjects(t: Task, keys: readonly string[]): Promise<void> {
  await t.any('SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k ORDER BY k', [keys]);
}
