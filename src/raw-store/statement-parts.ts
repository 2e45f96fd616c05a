// Puts an uploaded statement's shared parts back beside its entries, for whoever maps them (the processor,
// reconciliation) or shows them (the board): an entry is stored without its account, which its statements
// document holds once for all its entries.
import type { Collection, ObjectId, OperationOptions } from 'mongodb';
import { classifyMongoError } from '../db/mongo-errors.js';
import { withAccount, type XmlValue } from '../domain/camt053-xml.js';
import type { RawTransaction, StatementFile } from './collections.js';

/** Does the document need its statement's account: an entry stored without it. */
const needsAccount = (doc: RawTransaction) =>
  doc.statementId !== undefined && doc.statementPart !== undefined && doc.payload.Acct === undefined;

/**
 * Sets each statement entry's payload to what the iso20022 mapper reads (`{ Acct, Ntry, statement }`), with one
 * query for all the statements of `docs`. Documents that carry their account (entries of earlier releases, a
 * payload an operator corrected with it) and documents of other sources are left as they are; so is an entry
 * whose statements document is gone, which its mapper then refuses for want of `payload.Acct`.
 */
export async function resolveStatementParts(
  statements: Collection<StatementFile>,
  docs: RawTransaction[],
  options: OperationOptions = {},
): Promise<void> {
  const wanting = docs.filter(needsAccount);
  if (wanting.length === 0) return;
  const ids = [...new Map(wanting.map((doc) => [doc.statementId!.toHexString(), doc.statementId!])).values()];
  let found: Array<Pick<StatementFile, '_id' | 'statements'>>;
  try {
    found = await statements.find({ _id: { $in: ids } }, { ...options, projection: { _id: 1, statements: 1 } }).toArray();
  } catch (error) {
    throw classifyMongoError(error);
  }
  const byId = new Map(found.map((statement) => [statement._id.toHexString(), statement]));
  for (const doc of wanting) {
    const account = byId.get((doc.statementId as ObjectId).toHexString())?.statements[doc.statementPart!]?.account;
    if (account !== undefined) doc.payload = withAccount(doc.payload, account as XmlValue);
  }
}
