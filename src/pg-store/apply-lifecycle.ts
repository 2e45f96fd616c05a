// The provider lifecycle applied to rows in four idempotent statements, so a replay or any arrival order ends
// the same: a pending row replaced by its posted one, a row voided by its removal.
import type { Task } from '../db/postgres.js';

/**
 * Applies the provider lifecycle to the rows this batch wrote or named: a pending row whose posted successor
 * exists is deleted and its raw id kept on the successor (the raw ids aliased to it, and its revisions, move
 * to the successor first, so they keep reading the transaction); a row with a recorded removal is voided, the
 * removal kept as its last revision.
 */
export async function applyLifecycle(t: Task, rawIds: string[]): Promise<void> {
  const replacedBy = `FROM transactions p
       JOIN transactions s ON s.tenant_id = p.tenant_id AND s.source = p.source AND s.supersedes = p.provider_ref AND s.id <> p.id
      WHERE p.status = 'pending' AND (p.raw_id = ANY($1::text[]) OR s.raw_id = ANY($1::text[]))`;
  await t.none(`UPDATE transaction_aliases a SET transaction_id = s.id ${replacedBy} AND a.transaction_id = p.id`, [rawIds]);
  await t.none(`UPDATE transaction_revisions r SET transaction_id = s.id ${replacedBy} AND r.transaction_id = p.id`, [rawIds]);
  await t.none(
    `WITH replaced AS (
       DELETE FROM transactions p
        USING transactions s
        WHERE s.tenant_id = p.tenant_id AND s.source = p.source AND s.supersedes = p.provider_ref
          AND p.status = 'pending' AND p.id <> s.id
          AND (p.raw_id = ANY($1::text[]) OR s.raw_id = ANY($1::text[]))
       RETURNING s.id AS successor, p.raw_id AS replaced_raw_id)
     UPDATE transactions t SET superseded_raw_id = replaced.replaced_raw_id FROM replaced WHERE t.id = replaced.successor`,
    [rawIds],
  );
  await t.none(
    `WITH targets AS (
       SELECT t.id, t.tenant_id, t.status AS was, r.raw_id AS removal_raw_id
         FROM transactions t
         JOIN transaction_removals r ON r.tenant_id = t.tenant_id AND r.source = t.source AND r.provider_ref = t.provider_ref
        WHERE t.status <> 'void' AND (t.raw_id = ANY($1::text[]) OR r.raw_id = ANY($1::text[]))),
     voided AS (UPDATE transactions t SET status = 'void' FROM targets WHERE t.id = targets.id),
     revision AS (
       INSERT INTO transaction_revisions (transaction_id, tenant_id, raw_id, outcome, changes)
       SELECT id, tenant_id, removal_raw_id, 'removal', jsonb_build_object('status', jsonb_build_object('from', was, 'to', 'void'))
         FROM targets
       ON CONFLICT (raw_id) DO NOTHING)
     INSERT INTO transaction_aliases (raw_id, tenant_id, transaction_id)
     SELECT removal_raw_id, tenant_id, id FROM targets
     ON CONFLICT (raw_id) DO NOTHING`,
    [rawIds],
  );
}
