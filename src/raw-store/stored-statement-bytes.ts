// The stored-statement quota's queries (TENANT_MAX_STORED_STATEMENT_BYTES): the bytes a tenant's uploads hold
// now (files in GridFS and statements documents, as stamped on each statements document), and when retention
// frees the first of them, for the refusal's Retry-After.
import type { Collection } from 'mongodb';
import { withinDeadline } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { StatementFile } from './collections.js';

/**
 * The sum of the tenant's statements' `fileBytes` and `bytes` (files removed count 0; uploads of earlier
 * releases, which carry neither, count 0). Walks the keys of `stored_bytes_by_tenant` of this tenant only.
 * Asked before each upload is stored, within the upload's deadline (STATEMENT_STORE_TIMEOUT_MS).
 */
export async function storedStatementBytes(statements: Collection<StatementFile>, tenantId: string, timeoutMs: number): Promise<number> {
  try {
    const [sum] = await withinDeadline(timeoutMs, (bound) =>
      statements
        .aggregate<{ files: number; documents: number }>(
          [
            { $match: { tenantId } },
            { $project: { _id: 0, fileBytes: 1, bytes: 1 } },
            { $group: { _id: null, files: { $sum: '$fileBytes' }, documents: { $sum: '$bytes' } } },
          ],
          bound,
        )
        .toArray(),
    );
    return (sum?.files ?? 0) + (sum?.documents ?? 0);
  } catch (error) {
    throw classifyMongoError(error);
  }
}

/**
 * When retention (RETENTION_STATEMENTS_SECONDS, > 0) frees the first of the tenant's stored bytes: its oldest
 * file still stored goes that long after its upload (the processors' sweep), a statements document that
 * long after its `retainFrom` (the TTL index); undefined when it has none. Asked only on a refusal.
 */
export async function nextStatementRelease(
  statements: Collection<StatementFile>,
  tenantId: string,
  retentionSeconds: number,
  timeoutMs: number,
): Promise<Date | undefined> {
  try {
    const [file, doc] = await Promise.all([
      withinDeadline(timeoutMs, (bound) =>
        statements.findOne({ tenantId, fileBytes: { $gt: 0 } }, { ...bound, sort: { receivedAt: 1 }, projection: { receivedAt: 1 } }),
      ),
      withinDeadline(timeoutMs, (bound) =>
        statements.findOne({ tenantId, bytes: { $gt: 0 } }, { ...bound, sort: { retainFrom: 1 }, projection: { retainFrom: 1 } }),
      ),
    ]);
    const from = [file?.receivedAt, doc?.retainFrom].filter((at): at is Date => at instanceof Date).map((at) => at.getTime());
    return from.length === 0 ? undefined : new Date(Math.min(...from) + retentionSeconds * 1000);
  } catch (error) {
    throw classifyMongoError(error);
  }
}
