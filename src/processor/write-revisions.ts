// Writes a batch's revisions of provider objects: one row per object at its latest revision, every revision
// kept in transaction_revisions; inside the batch's transaction, after the advisory locks on the objects.
import type { Task } from '../db/postgres.js';
import type { Direction, TransactionStatus } from '../domain/transaction.js';
import { type CurrentRow, type ObjectPlan, objectKeyOf, planObject, type Revision, type RowFields } from '../mapping/revision-plan.js';
import { type TransactionRow, transactionInsert } from './transaction-rows.js';
import { keyText, UnnestInsert } from './unnest-insert.js';

interface CurrentRecord {
  id: bigint;
  tenant_id: string;
  source: string;
  provider_ref: string;
  raw_id: string;
  revision_key: string[] | null;
  account_id: bigint;
  account: string;
  counterparty_id: bigint | null;
  counterparty: string | null;
  direction: Direction;
  amount_minor: bigint;
  currency: string;
  status: TransactionStatus;
  description: string | null;
  category: string | null;
  occurred_at: Date;
  booked_at: Date | null;
  supersedes: string | null;
  metadata: Record<string, unknown>;
}

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

const currentOf = (r: CurrentRecord): CurrentRow => ({
  id: r.id,
  rawId: r.raw_id,
  revisionKey: r.revision_key?.map(BigInt) ?? null,
  accountId: r.account_id,
  account: r.account,
  counterpartyId: r.counterparty_id,
  counterparty: r.counterparty,
  direction: r.direction,
  amountMinor: r.amount_minor,
  currency: r.currency.trim(),
  status: r.status,
  description: r.description,
  category: r.category,
  occurredAt: r.occurred_at,
  bookedAt: r.booked_at,
  supersedes: r.supersedes,
  metadata: r.metadata,
});

/** Records each revision once: a raw document already recorded (a replayed batch) is left out. Returns how many were recorded. */
export async function writeRevisions(t: Task, rows: TransactionRow[]): Promise<number> {
  const seen = new Set(
    await t.map<string>(
      'SELECT raw_id FROM transaction_revisions WHERE raw_id = ANY($1::text[])',
      [rows.map((r) => r.tx.rawId)],
      (r) => r.raw_id,
    ),
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
  await updateObjects(t, plans);
  await recordRevisions(t, plans, ids);
  return fresh.length;
}

/** The objects' rows as they stand, and for objects without one, the posted row that replaced them. */
async function readObjects(t: Task, keys: Array<[string, string, string]>) {
  const params = [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2])];
  const records = await t.any<CurrentRecord>(
    `SELECT t.id, t.tenant_id, t.source, t.provider_ref, t.raw_id, t.revision_key::text[] AS revision_key, t.account_id,
            a.external_ref AS account, t.counterparty_id, c.display_name AS counterparty, t.direction, t.amount_minor,
            t.currency, t.status, t.description, t.category, t.occurred_at, t.booked_at, t.supersedes, t.metadata
       FROM unnest($1::text[], $2::text[], $3::text[]) AS k(tenant_id, source, provider_ref)
       JOIN transactions t ON t.tenant_id = k.tenant_id AND t.source = k.source AND t.provider_ref = k.provider_ref
       JOIN accounts a ON a.id = t.account_id
       LEFT JOIN counterparties c ON c.id = t.counterparty_id
        FOR UPDATE OF t`,
    params,
  );
  const successorRows = await t.any<{ id: bigint; tenant_id: string; source: string; supersedes: string }>(
    `SELECT t.id, t.tenant_id, t.source, t.supersedes
       FROM unnest($1::text[], $2::text[], $3::text[]) AS k(tenant_id, source, provider_ref)
       JOIN transactions t ON t.tenant_id = k.tenant_id AND t.source = k.source AND t.supersedes = k.provider_ref`,
    params,
  );
  return {
    current: new Map(
      records.map((r) => [objectKeyOf({ tenantId: r.tenant_id, source: r.source, providerRef: r.provider_ref }), currentOf(r)]),
    ),
    successors: new Map(
      successorRows.map((r) => [objectKeyOf({ tenantId: r.tenant_id, source: r.source, providerRef: r.supersedes }), r.id]),
    ),
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
  const inserted = await t.many<{ id: bigint; tenant_id: string; source: string; provider_ref: string }>(
    transactionInsert.query(rows, 'RETURNING id, tenant_id, source, provider_ref'),
  );
  return new Map(inserted.map((r) => [objectKeyOf({ tenantId: r.tenant_id, source: r.source, providerRef: r.provider_ref }), r.id]));
}

/** Existing rows moved to their latest revision, in one statement. */
async function updateObjects(t: Task, plans: ObjectPlan[]): Promise<void> {
  const updates = plans.flatMap(({ update }) => (update ? [update] : []));
  if (updates.length === 0) return;
  const f = updates.map((u) => u.fields);
  await t.none(
    `UPDATE transactions t
        SET account_id = u.account_id, counterparty_id = u.counterparty_id, direction = u.direction, amount_minor = u.amount_minor,
            currency = u.currency, status = u.status, description = u.description, category = u.category,
            occurred_at = u.occurred_at, booked_at = u.booked_at, supersedes = u.supersedes, metadata = u.metadata,
            revision_key = u.revision_key::bigint[]
       FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bpchar[], $7::text[], $8::text[], $9::text[],
                   $10::timestamptz[], $11::timestamptz[], $12::text[], $13::jsonb[], $14::text[])
         AS u(id, account_id, counterparty_id, direction, amount_minor, currency, status, description, category, occurred_at,
              booked_at, supersedes, metadata, revision_key)
      WHERE t.id = u.id`,
    [
      updates.map((u) => u.id.toString()),
      f.map((x) => x.accountId.toString()),
      f.map((x) => x.counterpartyId?.toString() ?? null),
      f.map((x) => x.direction),
      f.map((x) => x.amountMinor.toString()),
      f.map((x) => x.currency),
      f.map((x) => x.status),
      f.map((x) => x.description),
      f.map((x) => x.category),
      f.map((x) => x.occurredAt),
      f.map((x) => x.bookedAt),
      f.map((x) => x.supersedes),
      f.map((x) => JSON.stringify(x.metadata)),
      updates.map((u) => keyText(u.revisionKey)),
    ],
  );
}

type RevisionRow = {
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

/** Every revision kept with its outcome; each raw id but the row's own reads the row through an alias. */
async function recordRevisions(t: Task, plans: ObjectPlan[], ids: Map<string, bigint>): Promise<void> {
  const revisions: RevisionRow[] = plans.flatMap((plan) =>
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
