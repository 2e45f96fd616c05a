// Uploaded statements waiting for their statement.processed event: a page of them, and clearing one once
// its entries are settled (the event recorded, or not due: an entry dead).
import type { ObjectId } from 'mongodb';
import type { StatementCollections } from './collections.js';

export async function pendingStatementEvents(
  store: StatementCollections,
  limit: number,
): Promise<Array<{ id: ObjectId; tenantId: string }>> {
  const docs = await store.statements.find({ eventPending: true }, { projection: { _id: 1, tenantId: 1 }, limit }).toArray();
  return docs.map((doc) => ({ id: doc._id, tenantId: doc.tenantId }));
}

export async function clearPendingStatementEvent(store: Pick<StatementCollections, 'statements'>, id: ObjectId): Promise<void> {
  await store.statements.updateOne({ _id: id }, { $unset: { eventPending: '' } });
}
