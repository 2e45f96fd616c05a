// Every revision of a provider object kept with its outcome; each raw id but the row's own reads the row through
// an alias, and a pending object met after its posted successor leaves its raw id on the successor.
import type { Task } from '../db/postgres.js';
import { keyText, UnnestInsert } from './unnest-insert.js';

export type RevisionRow = {
  transactionId: bigint;
  tenantId: string;
  rawId: string;
  key: bigint[] | null;
  outcome: string;
  changes: unknown;
  receivedAt: Date;
};
const revisionInsert = new UnnestInsert<RevisionRow>('transaction_revisions', [
  ['transaction_id', 'bigint', (r) => r.transactionId.toString()],
  ['tenant_id', 'text', (r) => r.tenantId],
  ['raw_id', 'text', (r) => r.rawId],
  ['revision_key', 'text', (r) => keyText(r.key), 'bigint[]'],
  ['outcome', 'text', (r) => r.outcome],
  ['changes', 'jsonb', (r) => JSON.stringify(r.changes)],
  ['received_at', 'timestamptz', (r) => r.receivedAt],
]);

/** Records the revisions, the successors' superseded raw ids and the aliases, in up to three statements. */
export async function recordRevisions(t: Task, revisions: RevisionRow[]): Promise<void> {
  await t.none(revisionInsert.query(revisions, ''));
  // A pending object met after its posted successor: the successor keeps its raw id, as when it came first.
  const superseded = revisions.filter((r) => r.outcome === 'superseded');
  if (superseded.length > 0) {
    await t.none(
      `UPDATE transactions t SET superseded_raw_id = u.raw_id
         FROM unnest($1::bigint[], $2::text[]) AS u(id, raw_id)
        WHERE t.id = u.id AND t.superseded_raw_id IS NULL`,
      [superseded.map((r) => r.transactionId.toString()), superseded.map((r) => r.rawId)],
    );
  }
  const aliased = revisions.filter((r) => r.outcome !== 'created');
  if (aliased.length === 0) return;
  await t.none(
    `INSERT INTO transaction_aliases (raw_id, tenant_id, transaction_id)
     SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT (raw_id) DO NOTHING`,
    [aliased.map((r) => r.rawId), aliased.map((r) => r.tenantId), aliased.map((r) => r.transactionId.toString())],
  );
}
