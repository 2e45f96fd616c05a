// A filtered page of a tenant's transactions, newest first, by keyset pagination on (occurred_at, id) so any
// page costs the same (never OFFSET).
import { type Database, pgp } from '../db/postgres.js';
import { readClassified as read } from '../db/postgres-errors.js';
import type { TransactionStatus } from '../domain/transaction.js';
import type { TransactionViewRow } from './rows.js';
import { SELECT, type TransactionView, toView } from './transaction-view.js';

/** The filters GET /api/v1/transactions takes (the gateway's listFiltersSchema checks them). */
export interface TransactionFilters {
  account?: string;
  status?: TransactionStatus;
  source?: string;
  currency?: string;
  from?: string;
  to?: string;
  limit: number;
  starting_after?: string;
}

export class UnknownCursorError extends Error {}

export async function listTransactions(
  db: Database,
  tenantId: string,
  filters: TransactionFilters,
): Promise<{ data: TransactionView[]; hasMore: boolean }> {
  const conditions = ['t.tenant_id = ${tenantId}'];
  const values: Record<string, unknown> = { tenantId, limit: filters.limit + 1 };
  if (filters.starting_after) {
    const cursor = await read(() =>
      db.oneOrNone<{ occurred_at: Date; id: bigint }>('SELECT occurred_at, id FROM transactions WHERE tenant_id = $1 AND raw_id = $2', [
        tenantId,
        filters.starting_after,
      ]),
    );
    if (!cursor) throw new UnknownCursorError(`starting_after: no transaction ${filters.starting_after}`);
    conditions.push('(t.occurred_at, t.id) < (${cursorAt}, ${cursorId})');
    values.cursorAt = cursor.occurred_at;
    values.cursorId = cursor.id.toString();
  }
  const optional: Array<[keyof typeof values, unknown, string]> = [
    ['account', filters.account, 'a.external_ref = ${account}'],
    ['status', filters.status, 't.status = ${status}'],
    ['source', filters.source, 't.source = ${source}'],
    ['currency', filters.currency, 't.currency = ${currency}'],
    ['from', filters.from && new Date(filters.from), 't.occurred_at >= ${from}'],
    ['to', filters.to && new Date(filters.to), 't.occurred_at < ${to}'],
  ];
  for (const [name, value, condition] of optional) {
    if (value === undefined) continue;
    conditions.push(condition);
    values[name] = value;
  }
  const rows = await read(() =>
    db.any<TransactionViewRow>(
      pgp.as.format(`${SELECT} WHERE ${conditions.join(' AND ')} ORDER BY t.occurred_at DESC, t.id DESC LIMIT \${limit}`, values),
    ),
  );
  return { data: rows.slice(0, filters.limit).map(toView), hasMore: rows.length > filters.limit };
}
