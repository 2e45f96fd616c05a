// Provider objects' rows as they stand, locked for the batch's transaction, and for objects without a row the
// posted row that replaced them: what the revision planner compares a batch's revisions with.
import type { Task } from '../db/postgres.js';
import type { CurrentRow, ProviderObjectRecord } from './rows.js';

/** A provider object, by its natural key. */
export interface ObjectKey {
  tenantId: string;
  source: string;
  providerRef: string;
}

const currentOf = (r: ProviderObjectRecord): CurrentRow => ({
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

/** The objects' current rows (FOR UPDATE), and the ids of the posted rows that name an object as superseded. */
export async function readProviderObjects(t: Task, keys: Array<[string, string, string]>) {
  const params = [keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2])];
  const records = await t.any<ProviderObjectRecord>(
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
    current: records.map((r) => ({ key: { tenantId: r.tenant_id, source: r.source, providerRef: r.provider_ref }, row: currentOf(r) })),
    successors: successorRows.map((r) => ({ key: { tenantId: r.tenant_id, source: r.source, providerRef: r.supersedes }, id: r.id })),
  };
}
