// The transactions resource: writes with an Idempotency-Key per call (kept across that call's retries, so a
// lost answer never stores the transaction twice), reads, and the filtered list across its pages.
import { type ListOptions, type Page, paginate } from './pages.js';
import type { CallOptions, Send } from './transport.js';
import type { Accepted, BatchResponse, Envelope, TransactionFilters, TransactionRow, TransactionStatus } from './types.js';

export interface WriteOptions extends CallOptions {
  /** The same key for the same logical request (e.g. your own payment id); one is generated when not given. */
  idempotencyKey?: string;
}

export function transactionsResource(send: Send) {
  return {
    /** POST /api/v1/transactions: 202 with its id and status URL (duplicate: true when its externalId was seen). */
    create(envelope: Envelope, { idempotencyKey = crypto.randomUUID(), ...call }: WriteOptions = {}): Promise<Accepted> {
      return send({ method: 'POST', path: 'api/v1/transactions', body: envelope, idempotencyKey, ...call });
    },
    /** POST /api/v1/transactions/batch: each item stored or refused on its own; `results[i]` is item i's. */
    createMany(envelopes: Envelope[], { idempotencyKey = crypto.randomUUID(), ...call }: WriteOptions = {}): Promise<BatchResponse> {
      return send({ method: 'POST', path: 'api/v1/transactions/batch', body: { items: envelopes }, idempotencyKey, ...call });
    },
    /** GET /api/v1/transactions/{id}: the document's progress, and the structured transaction once processed. */
    get(id: string, call: CallOptions = {}): Promise<TransactionStatus> {
      return send({ method: 'GET', path: `api/v1/transactions/${encodeURIComponent(id)}`, ...call });
    },
    /** GET /api/v1/transactions, every page: structured transactions, newest first. */
    list(filters: TransactionFilters = {}, { pageSize, ...call }: ListOptions = {}): AsyncGenerator<TransactionRow, void, undefined> {
      const { startingAfter, limit, ...query } = filters;
      return paginate(
        (after) =>
          send<Page<TransactionRow>>({
            method: 'GET',
            path: 'api/v1/transactions',
            query: { ...query, limit: pageSize ?? limit, starting_after: after },
            ...call,
          }),
        startingAfter,
      );
    },
  };
}
