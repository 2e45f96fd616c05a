// Reading structured transactions back for API clients, always scoped by tenant: by raw id, or a filtered
// page, newest first, by keyset pagination on (occurred_at, id) so any page costs the same (never OFFSET).
import { z } from 'zod';
import { type Database, pgp } from '../db/postgres.js';
import { readClassified as read } from '../db/postgres-errors.js';
import { textSchema, transactionIdSchema } from '../domain/ids.js';
import { statuses } from '../domain/transaction.js';
import { type Row, SELECT, type TransactionView, toView } from '../pg-store/transaction-view.js';

export {
  getTransaction,
  getTransactions,
  revisionViewSchema,
  type TransactionDetail,
  type TransactionView,
  transactionDetailSchema,
  transactionViewSchema,
} from '../pg-store/transaction-view.js';

export const listFiltersSchema = z.strictObject({
  account: textSchema.min(1).max(128).optional(),
  status: z
    .enum(statuses)
    .optional()
    .describe('The transaction\'s status (pending, posted, reversed, void), not the document\'s (docs/api.md, "Two statuses")'),
  source: textSchema.min(1).max(64).optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  starting_after: transactionIdSchema.optional(),
});
export type ListFilters = z.infer<typeof listFiltersSchema>;

export class UnknownCursorError extends Error {}

export async function listTransactions(
  db: Database,
  tenantId: string,
  filters: ListFilters,
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
    db.any<Row>(
      pgp.as.format(`${SELECT} WHERE ${conditions.join(' AND ')} ORDER BY t.occurred_at DESC, t.id DESC LIMIT \${limit}`, values),
    ),
  );
  return { data: rows.slice(0, filters.limit).map(toView), hasMore: rows.length > filters.limit };
}
