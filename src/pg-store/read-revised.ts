// Which raw documents' revisions are already recorded: a replayed batch records each revision once.
import type { Task } from '../db/postgres.js';

/** The raw ids among these whose revision transaction_revisions holds. */
export async function readRevised(t: Task, rawIds: string[]): Promise<Set<string>> {
  return new Set(await t.map<string>('SELECT raw_id FROM transaction_revisions WHERE raw_id = ANY($1::text[])', [rawIds], (r) => r.raw_id));
}
