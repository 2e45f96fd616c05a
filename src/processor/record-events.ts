// Records a batch's events in the batch's own PostgreSQL transaction (the outbox): a row created is
// transaction.processed, a revision that changed it transaction.updated, a removal that voided it
// transaction.voided, each with the transaction as GET /api/v1/transactions/{id} shows it then.
import { createHash } from 'node:crypto';
import type { Task } from '../db/postgres.js';
import { getTransactions, type Row, SELECT, type TransactionDetail, toView } from '../db/transaction-view.js';
import type { EventType } from '../domain/events.js';
import { isRemoval, type Mapped } from '../domain/transaction.js';

/**
 * The same event of the same document (or of the same failed attempt: its log entry's id) has the same id,
 * so recording it again adds nothing.
 */
export const eventIdOf = (type: EventType, key: string) =>
  `evt_${createHash('sha256').update(`${type}\u0000${key}`).digest('hex').slice(0, 24)}`;

interface Wanted {
  rawId: string;
  tenantId: string;
  type: EventType;
}

/**
 * The batch's revisions as written, and each removal that voided a row of the batch (a removal may have
 * arrived before its row: it voids the row in the batch that writes it).
 */
const OUTCOMES_SQL = `
  SELECT r.raw_id, r.tenant_id, r.outcome FROM transaction_revisions r
   WHERE r.raw_id = ANY($1::text[])
      OR (r.outcome = 'removal' AND r.transaction_id IN (SELECT t.id FROM transactions t WHERE t.raw_id = ANY($1::text[])))`;

/** Records the batch's events; returns how many were new. */
export async function recordEvents(t: Task, mapped: Mapped[]): Promise<number> {
  // Revisions and removals exist only for provider objects: a batch of plain rows skips that read.
  const lifecycle = mapped.some((m) => isRemoval(m) || m.providerRef !== null);
  const outcomes = lifecycle
    ? await t.any<{ raw_id: string; tenant_id: string; outcome: string }>(OUTCOMES_SQL, [mapped.map((m) => m.rawId)])
    : [];
  const outcomeOf = new Map(outcomes.map((o) => [o.raw_id, o.outcome]));
  const wanted: Wanted[] = [];
  for (const m of mapped) {
    if (isRemoval(m)) continue;
    // No revision: a plain row (or an alias of one); unchanged, stale, after-void, superseded: nothing changed.
    const outcome = outcomeOf.get(m.rawId);
    const type =
      outcome === undefined || outcome === 'created' ? 'transaction.processed' : outcome === 'updated' ? 'transaction.updated' : null;
    if (type) wanted.push({ rawId: m.rawId, tenantId: m.tenantId, type });
  }
  for (const o of outcomes)
    if (o.outcome === 'removal') wanted.push({ rawId: o.raw_id, tenantId: o.tenant_id, type: 'transaction.voided' });
  if (wanted.length === 0) return 0;
  const views = await viewsOf(t, wanted, lifecycle);
  const events = wanted.flatMap((w) => {
    const data = views.get(JSON.stringify([w.tenantId, w.rawId]));
    return data ? [{ id: eventIdOf(w.type, w.rawId), tenant_id: w.tenantId, type: w.type, raw_id: w.rawId, data }] : [];
  });
  const inserted = await t.result(
    `INSERT INTO events (id, tenant_id, type, raw_id, data)
     SELECT e.id, e.tenant_id, e.type, e.raw_id, e.data FROM jsonb_to_recordset($1::jsonb) AS e(id text, tenant_id text, type text, raw_id text, data jsonb)
     ON CONFLICT (id) DO NOTHING`,
    [JSON.stringify(events)],
  );
  return inserted.rowCount;
}

/**
 * The transactions the events describe, by [tenant, raw id]: rows written under their own raw id (every
 * plain row of a batch of plain rows) in one indexed read; the rest (aliases, revisions, removals, replaced
 * pending rows) as GET resolves them, with their revisions.
 */
async function viewsOf(t: Task, wanted: Wanted[], lifecycle: boolean): Promise<Map<string, TransactionDetail>> {
  const views = new Map<string, TransactionDetail>();
  if (!lifecycle) {
    const rows = await t.any<Row>(`${SELECT} WHERE t.raw_id = ANY($1::text[])`, [wanted.map((w) => w.rawId)]);
    for (const row of rows) views.set(JSON.stringify([row.tenant_id, row.raw_id]), { ...toView(row), revisions: [] });
  }
  const byTenant = new Map<string, string[]>();
  for (const w of wanted.filter((w) => !views.has(JSON.stringify([w.tenantId, w.rawId])))) {
    const ids = byTenant.get(w.tenantId);
    if (ids) ids.push(w.rawId);
    else byTenant.set(w.tenantId, [w.rawId]);
  }
  for (const [tenantId, rawIds] of byTenant)
    for (const [rawId, view] of await getTransactions(t, tenantId, [...new Set(rawIds)]))
      views.set(JSON.stringify([tenantId, rawId]), view);
  return views;
}
