// Raw ids a row accounts for besides its own: a replaced pending row's, an alias, a revision, a removal.
import type { Database } from '../db/postgres.js';

export type Explanation = 'revisions' | 'voids' | 'replaced' | 'aliases';

/** Raw ids a row accounts for besides its own (read-document-rows.ts): a replaced pending row's, an alias, a revision, a removal. */
const EXPLAINED_SQL = `
  SELECT superseded_raw_id AS raw_id, 'replaced' AS kind FROM transactions WHERE superseded_raw_id = ANY($1::text[])
  UNION ALL SELECT raw_id, 'aliases' FROM transaction_aliases WHERE raw_id = ANY($1::text[])
  UNION ALL SELECT raw_id, 'revisions' FROM transaction_revisions WHERE raw_id = ANY($1::text[]) AND outcome <> 'removal'
  UNION ALL SELECT raw_id, 'voids' FROM transaction_removals WHERE raw_id = ANY($1::text[])`;

/** Every way a row other than its own accounts for each of these documents (one document may have several). */
export async function readExplanations(db: Database, rawIds: string[]) {
  return db.any<{ raw_id: string; kind: Explanation }>(EXPLAINED_SQL, [rawIds]);
}
