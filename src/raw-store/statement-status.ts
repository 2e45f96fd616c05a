// What a client may see of an uploaded statement: its status, and its entries' progress in the file's order,
// a page at a time (a statement may hold tens of thousands).
import { ObjectId, type OperationOptions } from 'mongodb';
import { z } from 'zod';
import { ACCEPT_PATH_TIMEOUT_MS, readWithin } from '../db/mongo.js';
import type { RAW_STATUSES, StatementCollections, StatementFile } from './collections.js';
import { entryIdsOf } from './insert-statement.js';

export const statementStatusSchema = z.object({
  id: z.string(),
  /** pending while an entry waits or is retried; processed once every entry is; failed once none waits and one is dead. */
  status: z.enum(['pending', 'processed', 'failed']),
  version: z.string(),
  receivedAt: z.string(),
  statements: z.array(z.object({ id: z.string(), account: z.string(), entries: z.number().int() })),
});
export type StatementStatusView = z.infer<typeof statementStatusSchema> & {
  entries: Array<{
    index: number;
    rawId: string | null;
    status: (typeof RAW_STATUSES)[number];
    lastError: string | null;
    /** Its raw document is gone (retention): processed if its row exists, else it was dead. */
    removed?: boolean;
  }>;
};

/** Which of a statement's entries to read: `limit` of them from the `start`-th, in the file's order. */
export interface EntriesPage {
  start: number;
  limit: number;
}

/** Every entry: for callers that want them all (a statement's whole progress). */
export const ALL_ENTRIES: EntriesPage = { start: 0, limit: Number.POSITIVE_INFINITY };

type EntryIds = Array<ObjectId | null>;

/**
 * The statement's status from its entries' statuses: a distinct over their ids, so a statement of tens of
 * thousands of entries answers with at most five values, not with every entry's document.
 */
async function overallStatus(
  store: StatementCollections,
  tenantId: string,
  ids: EntryIds,
  bound: OperationOptions,
): Promise<StatementStatusView['status']> {
  const known = ids.filter((rawId): rawId is ObjectId => rawId !== null);
  const statuses = new Set(await store.raw.distinct('status', { _id: { $in: known }, tenantId }, bound));
  // An entry retention removed was processed: it adds no status here.
  if (statuses.has('pending') || statuses.has('failed')) return 'pending';
  return statuses.has('dead') ? 'failed' : 'processed';
}

/** The page's entries with their raw documents' progress. */
async function entriesOf(store: StatementCollections, tenantId: string, ids: EntryIds, page: EntriesPage, bound: OperationOptions) {
  const pageIds = ids.slice(page.start, page.start + page.limit);
  const known = pageIds.filter((rawId): rawId is ObjectId => rawId !== null);
  const raws =
    known.length === 0
      ? []
      : await store.raw.find({ _id: { $in: known }, tenantId }, { ...bound, projection: { _id: 1, status: 1, lastError: 1 } }).toArray();
  const byId = new Map(raws.map((r) => [r._id.toHexString(), r]));
  return pageIds.map((rawId, i) => {
    const raw = rawId ? byId.get(rawId.toHexString()) : undefined;
    // An entry retention removed was processed, or dead: its row (or none) says which (routes/statements.ts).
    return {
      index: page.start + i,
      rawId: rawId?.toHexString() ?? null,
      status: raw?.status ?? 'processed',
      lastError: raw?.lastError ?? null,
      ...(rawId && !raw ? { removed: true } : {}),
    };
  });
}

/**
 * What the view reads of a statements document: its summary and its entries' ids, never the statements'
 * accounts and balances (which may run to megabytes). Every id is read, not only the page's: the status is
 * over all of them.
 */
const VIEW_FIELDS = {
  version: 1,
  receivedAt: 1,
  'statements.id': 1,
  'statements.accountRef': 1,
  'statements.entryCount': 1,
  entryIds: 1,
} as const;

type StatementSummary = Pick<StatementFile, '_id' | 'version' | 'receivedAt' | 'entryIds'> & {
  statements: Array<Pick<StatementFile['statements'][number], 'id' | 'accountRef' | 'entryCount'>>;
};

export interface StatementStatusOptions {
  /**
   * One deadline for every MongoDB read of the answer; past it (or MongoDB away) a TransientError, a 503. By
   * default the accept path's (ACCEPT_PATH_TIMEOUT_MS): a client waits for it, on a GET or a duplicate upload.
   */
  deadlineMs?: number;
}

/**
 * The tenant's statement, its status, and one page of its entries' raw documents' progress (all of them by
 * default), or undefined when the tenant has none such.
 */
export async function findStatementStatus(
  store: StatementCollections,
  tenantId: string,
  id: string,
  page: EntriesPage = ALL_ENTRIES,
  { deadlineMs = ACCEPT_PATH_TIMEOUT_MS }: StatementStatusOptions = {},
): Promise<StatementStatusView | undefined> {
  return readWithin(deadlineMs, async (bound) => {
    const doc = await store.statements.findOne<StatementSummary>(
      { _id: new ObjectId(id), tenantId, complete: true },
      { ...bound, projection: VIEW_FIELDS },
    );
    if (!doc) return undefined;
    const ids = doc.entryIds ?? (await entryIdsOf(store, tenantId, doc.statements, bound));
    return {
      id,
      status: await overallStatus(store, tenantId, ids, bound),
      version: doc.version,
      receivedAt: doc.receivedAt.toISOString(),
      statements: doc.statements.map((s) => ({ id: s.id, account: s.accountRef, entries: s.entryCount })),
      entries: await entriesOf(store, tenantId, ids, page, bound),
    };
  });
}
