// Writes a batch's revisions of provider objects: one row per object at its latest revision, every revision
// kept in transaction_revisions; inside the batch's transaction, after the advisory locks on the objects.
// The planner decides, pg-store's statements write.
import type { Task } from '../db/postgres.js';
import { type ObjectPlan, objectKeyOf, planObject, type Revision } from '../mapping/revision-plan.js';
import { insertObjectRows } from '../pg-store/insert-transactions.js';
import { readProviderObjects } from '../pg-store/read-provider-objects.js';
import { readRevised } from '../pg-store/read-revised.js';
import { type RevisionRow, recordRevisions } from '../pg-store/record-revisions.js';
import type { RowFields, TransactionRow } from '../pg-store/rows.js';
import { updateObjectRows } from '../pg-store/update-object-rows.js';

const fieldsOf = (row: TransactionRow): RowFields => ({
  accountId: row.accountId,
  account: row.tx.accountRef,
  counterpartyId: row.counterpartyId,
  counterparty: row.tx.counterparty?.name.trim() ?? null,
  direction: row.tx.direction,
  amountMinor: row.tx.amountMinor,
  currency: row.tx.currency,
  status: row.tx.status,
  description: row.tx.description,
  category: row.tx.category,
  occurredAt: row.tx.occurredAt,
  bookedAt: row.tx.bookedAt,
  supersedes: row.tx.supersedes,
  metadata: row.tx.metadata,
});

/** Records each revision once: a raw document already recorded (a replayed batch) is left out. Returns how many were recorded. */
export async function writeRevisions(t: Task, rows: TransactionRow[]): Promise<number> {
  const seen = await readRevised(
    t,
    rows.map((r) => r.tx.rawId),
  );
  const fresh = rows.filter((row) => !seen.has(row.tx.rawId));
  if (fresh.length === 0) return 0;
  const byObject = new Map<string, Revision[]>();
  for (const row of fresh) {
    const key = objectKeyOf(row.tx);
    byObject.set(key, [...(byObject.get(key) ?? []), { tx: row.tx, fields: fieldsOf(row) }]);
  }
  const keys = [...byObject.keys()].map((key) => JSON.parse(key) as [string, string, string]);
  const { current, successors } = await readObjects(t, keys);
  const plans = [...byObject.entries()].map(([key, revisions]) => planObject(key, current.get(key), revisions, successors.has(key)));
  const ids = new Map([...current].map(([key, row]) => [key, row.id]));
  for (const [key, id] of successors) if (!ids.has(key)) ids.set(key, id);
  for (const [key, id] of await insertObjects(t, plans)) ids.set(key, id);
  const updates = plans.flatMap(({ update }) => (update ? [update] : []));
  if (updates.length > 0) await updateObjectRows(t, updates);
  await recordRevisions(t, revisionsOf(plans, ids));
  return fresh.length;
}

/** The objects' rows as they stand, and for objects without one, the posted row that replaced them, by object key. */
async function readObjects(t: Task, keys: Array<[string, string, string]>) {
  const { current, successors } = await readProviderObjects(t, keys);
  return {
    current: new Map(current.map(({ key, row }) => [objectKeyOf(key), row])),
    successors: new Map(successors.map(({ key, id }) => [objectKeyOf(key), id])),
  };
}

/** New objects' rows: the latest applied revision under its creating revision's raw id; their ids by object. */
async function insertObjects(t: Task, plans: ObjectPlan[]): Promise<Map<string, bigint>> {
  const rows: TransactionRow[] = plans.flatMap(({ insert }) => {
    if (!insert) return [];
    const { creator, latest } = insert;
    const tx = { ...latest.tx, rawId: creator.rawId, externalId: creator.externalId, receivedAt: creator.receivedAt };
    return [{ tx, accountId: latest.fields.accountId, counterpartyId: latest.fields.counterpartyId }];
  });
  if (rows.length === 0) return new Map();
  const inserted = await insertObjectRows(t, rows);
  return new Map(inserted.map((r) => [objectKeyOf({ tenantId: r.tenant_id, source: r.source, providerRef: r.provider_ref }), r.id]));
}

/** Every planned revision with the id of its object's row. */
function revisionsOf(plans: ObjectPlan[], ids: Map<string, bigint>): RevisionRow[] {
  return plans.flatMap((plan) =>
    plan.revisions.map((r) => ({
      transactionId: ids.get(plan.objectKey)!,
      tenantId: r.tx.tenantId,
      rawId: r.tx.rawId,
      key: r.tx.revisionKey,
      outcome: r.outcome,
      changes: r.changes,
      receivedAt: r.tx.receivedAt,
    })),
  );
}
