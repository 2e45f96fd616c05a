// API keys and idempotency records once lived in PostgreSQL: `prismo migrate` copies them into MongoDB once
// (keys with ids, revocations and digests; complete, unexpired records) before a migration drops the tables.
import type { Database } from '../db/postgres.js';
import type { AcceptCollections } from './accept-collections.js';
import type { Scope } from './api-keys.js';

const MARKER = 'import-from-postgres';

export async function importAcceptStateFromPostgres(
  db: Database,
  collections: AcceptCollections,
): Promise<{ keys: number; records: number } | 'already-done'> {
  if (await collections.meta.findOne({ _id: MARKER })) return 'already-done';
  const exists = await db.one<{ keys: boolean; records: boolean }>(
    "SELECT to_regclass('api_keys') IS NOT NULL AS keys, to_regclass('idempotency_keys') IS NOT NULL AS records",
  );
  const keys = exists.keys ? await importKeys(db, collections) : 0;
  const records = exists.records ? await importRecords(db, collections) : 0;
  await collections.meta.insertOne({ _id: MARKER, at: new Date(), detail: { keys, records } });
  return { keys, records };
}

/** The API keys, by digest; returns how many were new. */
async function importKeys(db: Database, collections: AcceptCollections): Promise<number> {
  let keys = 0;
  const rows = await db.any<{
    id: bigint;
    tenant_id: string;
    prefix: string;
    digest: Buffer;
    scopes: Scope[];
    label: string | null;
    created_at: Date;
    revoked_at: Date | null;
  }>('SELECT id, tenant_id, prefix, digest, scopes, label, created_at, revoked_at FROM api_keys ORDER BY id');
  for (const row of rows) {
    const result = await collections.apiKeys.updateOne(
      { _id: row.digest.toString('hex') },
      {
        $setOnInsert: {
          id: row.id.toString(),
          tenantId: row.tenant_id,
          prefix: row.prefix,
          scopes: row.scopes,
          label: row.label,
          createdAt: row.created_at,
          revokedAt: row.revoked_at,
        },
      },
      { upsert: true },
    );
    keys += result.upsertedCount;
  }
  return keys;
}

/** The complete, unexpired idempotency records; returns how many were new. */
async function importRecords(db: Database, collections: AcceptCollections): Promise<number> {
  let records = 0;
  const rows = await db.any<{
    tenant_id: string;
    key: string;
    request_hash: string;
    status_code: number;
    headers: Record<string, string> | null;
    body: string | null;
    created_at: Date;
    expires_at: Date;
  }>(
    "SELECT tenant_id, key, request_hash, status_code, headers, body, created_at, expires_at FROM idempotency_keys WHERE state = 'done' AND expires_at > now()",
  );
  for (const row of rows) {
    const result = await collections.idempotency.updateOne(
      { _id: JSON.stringify([row.tenant_id, row.key]) },
      {
        $setOnInsert: {
          // Fingerprinted before canonical JSON: compared the old way (plugins/idempotency.ts).
          requestHash: `legacy:${row.request_hash}`,
          state: 'done',
          statusCode: row.status_code,
          headers: row.headers,
          body: row.body,
          createdAt: row.created_at,
          expiresAt: row.expires_at,
        },
      },
      { upsert: true },
    );
    records += result.upsertedCount;
  }
  return records;
}
