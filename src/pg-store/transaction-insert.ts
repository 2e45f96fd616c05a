// The transactions table's row as the writer inserts it, one bound array per column.
import type { TransactionRow } from './rows.js';
import { keyText, UnnestInsert } from './unnest-insert.js';

export const transactionInsert = new UnnestInsert<TransactionRow>('transactions', [
  ['tenant_id', 'text', (r) => r.tx.tenantId],
  ['raw_id', 'text', (r) => r.tx.rawId],
  ['source', 'text', (r) => r.tx.source],
  ['external_id', 'text', (r) => r.tx.externalId],
  ['provider_ref', 'text', (r) => r.tx.providerRef],
  ['supersedes', 'text', (r) => r.tx.supersedes],
  ['account_id', 'bigint', (r) => r.accountId],
  ['counterparty_id', 'bigint', (r) => r.counterpartyId],
  ['direction', 'text', (r) => r.tx.direction],
  ['amount_minor', 'bigint', (r) => r.tx.amountMinor.toString()],
  ['currency', 'bpchar', (r) => r.tx.currency],
  ['status', 'text', (r) => r.tx.status],
  ['description', 'text', (r) => r.tx.description],
  ['category', 'text', (r) => r.tx.category],
  ['occurred_at', 'timestamptz', (r) => r.tx.occurredAt],
  ['booked_at', 'timestamptz', (r) => r.tx.bookedAt],
  ['received_at', 'timestamptz', (r) => r.tx.receivedAt],
  ['metadata', 'jsonb', (r) => JSON.stringify(r.tx.metadata)],
  ['revision_key', 'text', (r) => keyText(r.tx.revisionKey), 'bigint[]'],
]);
