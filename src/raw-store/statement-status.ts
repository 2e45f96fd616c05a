// What a client may see of an uploaded statement: its entries' progress, in the file's order.
import { ObjectId } from 'mongodb';
import { z } from 'zod';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { StatementCollections } from './collections.js';
import { entryIdsOf } from './insert-statement.js';
import type { RAW_STATUSES } from './states.js';

export const statementStatusSchema = z.object({
  id: z.string(),
  /** pending while an entry waits or is retried; processed once every entry is; failed once none waits and one is dead. */
  status: z.enum(['pending', 'processed', 'failed']),
  version: z.string(),
  receivedAt: z.string(),
  statements: z.array(z.object({ id: z.string(), account: z.string(), entries: z.number().int() })),
});
export type StatementStatusView = z.infer<typeof statementStatusSchema> & {
  entries: Array<{ index: number; rawId: string | null; status: (typeof RAW_STATUSES)[number]; lastError: string | null }>;
};

/** The tenant's statement and its entries' raw documents' progress, or undefined when the tenant has none such. */
export async function findStatementStatus(
  store: StatementCollections,
  tenantId: string,
  id: string,
): Promise<StatementStatusView | undefined> {
  try {
    const doc = await store.statements.findOne({ _id: new ObjectId(id), tenantId, complete: true });
    if (!doc) return undefined;
    const ids = doc.entryIds ?? (await entryIdsOf(store, tenantId, doc.statements));
    const known = ids.filter((rawId): rawId is ObjectId => rawId !== null);
    const raws = await store.raw.find({ _id: { $in: known }, tenantId }, { projection: { _id: 1, status: 1, lastError: 1 } }).toArray();
    const byId = new Map(raws.map((r) => [r._id.toHexString(), r]));
    const entries = ids.map((rawId, index) => {
      const raw = rawId ? byId.get(rawId.toHexString()) : undefined;
      // An entry retention removed was processed: its row says the rest.
      return { index, rawId: rawId?.toHexString() ?? null, status: raw?.status ?? 'processed', lastError: raw?.lastError ?? null };
    });
    const waiting = entries.some((e) => e.status === 'pending' || e.status === 'failed');
    const status = waiting ? 'pending' : entries.some((e) => e.status === 'dead') ? 'failed' : 'processed';
    return {
      id,
      status,
      version: doc.version,
      receivedAt: doc.receivedAt.toISOString(),
      statements: doc.statements.map((s) => ({ id: s.id, account: s.accountRef, entries: s.entryCount })),
      entries,
    };
  } catch (error) {
    throw classifyMongoError(error);
  }
}
