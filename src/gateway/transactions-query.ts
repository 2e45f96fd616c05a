// The query side of the transactions resource for API clients, always scoped by tenant: the list's filters
// as the route checks them, and pg-store's reads by raw id or by page.
import { z } from 'zod';
import { textSchema, transactionIdSchema } from '../domain/ids.js';
import { statuses } from '../domain/transaction.js';

export { getTransaction, getTransactions } from '../pg-store/get-transactions.js';
export { listTransactions, UnknownCursorError } from '../pg-store/list-transactions.js';
export {
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
