// Records a batch's events in the batch's own PostgreSQL transaction (the outbox): created, updated and voided
// rows, each with the transaction as GET /api/v1/transactions/{id} shows it then (docs/api.md, "GET /api/v1/events").

import type { Task } from '../db/postgres.js';
import type { EventType } from '../domain/events.js';
import { isRemoval, type Mapped } from '../domain/transaction.js';
import { getTransactions } from './get-transactions.js';
import { EVENT_ID_SQL, eventIdOf, insertEvents } from './insert-events.js';
import type { TransactionDetail } from './transaction-view.js';

/**
 * A batch of plain rows in one statement: the processed event of each row written under its document's own
 * raw id, its data read from the row by the feed (plain rows never change); returns the documents without
 * such a row (an external id resent after retention: an alias), recorded the general way.
 */
const PLAIN_SQL = `
  WITH own AS (SELECT tenant_id, raw_id FROM transactions WHERE raw_id = ANY($1::text[])),
       recorded AS (
         INSERT INTO events (id, tenant_id, type, raw_id)
         SELECT ${EVENT_ID_SQL('transaction.processed', 'raw_id')}, tenant_id, 'transaction.processed', raw_id FROM own
         ON CONFLICT (id) DO NOTHING)
  SELECT k.raw_id FROM unnest($1::text[]) AS k(raw_id) WHERE k.raw_id NOT IN (SELECT raw_id FROM own)`;

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

/** Records the batch's events. */
export async function recordEvents(t: Task, mapped: Mapped[]): Promise<void> {
  // Revisions and removals exist only for provider objects: a batch of plain rows is one statement.
  const lifecycle = mapped.some((m) => isRemoval(m) || m.providerRef !== null);
  if (!lifecycle) {
    const aliased = new Set(await t.map(PLAIN_SQL, [mapped.map((m) => m.rawId)], (row: { raw_id: string }) => row.raw_id));
    mapped = mapped.filter((m) => aliased.has(m.rawId));
    if (mapped.length === 0) return;
  }
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
  if (wanted.length === 0) return;
  const views = await viewsOf(t, wanted);
  const events = wanted.flatMap((w) => {
    const data = views.get(JSON.stringify([w.tenantId, w.rawId]));
    return data ? [{ id: eventIdOf(w.type, w.rawId), tenant_id: w.tenantId, type: w.type, raw_id: w.rawId, data }] : [];
  });
  await insertEvents(t, events);
}

/** The transactions the events describe, by [tenant, raw id], as GET resolves them, with their revisions. */
async function viewsOf(t: Task, wanted: Wanted[]): Promise<Map<string, TransactionDetail>> {
  const views = new Map<string, TransactionDetail>();
  const byTenant = new Map<string, string[]>();
  for (const w of wanted) {
    const ids = byTenant.get(w.tenantId);
    if (ids) ids.push(w.rawId);
    else byTenant.set(w.tenantId, [w.rawId]);
  }
  for (const [tenantId, rawIds] of byTenant)
    for (const [rawId, view] of await getTransactions(t, tenantId, [...new Set(rawIds)]))
      views.set(JSON.stringify([tenantId, rawId]), view);
  return views;
}
