// The change stream's query: insert events on raw_transactions, ids and tenants only.
import type { ChangeStream, Collection } from 'mongodb';
import type { RawTransaction } from './collections.js';

/**
 * An insert event carries the whole document; the pipeline needs its id, tenant and slot alone (the claim reads
 * documents within the byte budget; batches serve tenants in turn), so the server projects the rest away:
 * a backlog of large documents costs the stream's cursor a few dozen bytes per event, not the documents.
 * `_id`, the resume token, must stay.
 */
export const INSERT_EVENT_PIPELINE = [
  { $match: { operationType: 'insert' } },
  { $project: { documentKey: 1, clusterTime: 1, 'fullDocument.tenantId': 1, 'fullDocument.slot': 1 } },
];

/** Insert events after `resumeToken` (none: from now): `_id` (token), `documentKey`, `clusterTime`, the tenant and slot. */
export function watchInserts(raw: Collection<RawTransaction>, resumeToken: unknown): ChangeStream {
  return raw.watch(INSERT_EVENT_PIPELINE, resumeToken === undefined ? {} : { resumeAfter: resumeToken as never }) as ChangeStream;
}
