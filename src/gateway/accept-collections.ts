// The gateway's own MongoDB collections, API keys and idempotency records, beside the raw documents so the
// accept path needs MongoDB alone (docs/api.md, "What the accept path depends on").
import type { Collection, Db } from 'mongodb';
import type { Scope } from './scopes.js';

export interface ApiKeyDoc {
  /** SHA-256 digest of the key, hex: lookups are by digest, never by key. */
  _id: string;
  /** The public id, digits, shown by `prismo keys list` and used to revoke (unique index). */
  id: string;
  tenantId: string;
  prefix: string;
  scopes: Scope[];
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface IdempotencyDoc {
  /** [tenantId, key] as JSON: keys are per tenant. */
  _id: string;
  requestHash: string;
  state: 'in_flight' | 'done';
  statusCode: number | null;
  headers: Record<string, string> | null;
  body: string | null;
  createdAt: Date;
  /** MongoDB's TTL monitor removes the record after this (index expireAfterSeconds: 0). */
  expiresAt: Date;
}

/** Bytes a tenant had accepted in a UTC day, shared by every gateway (daily-bytes.ts). */
export interface TenantUsageDoc {
  /** [tenantId, day] as JSON. */
  _id: string;
  tenantId: string;
  /** YYYY-MM-DD, UTC. */
  day: string;
  bytes: number;
  /** MongoDB's TTL monitor removes the counter after this: the day after its day. */
  expiresAt: Date;
}

/** One-off facts about this database, e.g. that the keys kept in PostgreSQL before were imported. */
export interface MetaDoc {
  _id: string;
  at: Date;
  detail: Record<string, unknown>;
}

export interface AcceptCollections {
  apiKeys: Collection<ApiKeyDoc>;
  idempotency: Collection<IdempotencyDoc>;
  meta: Collection<MetaDoc>;
  usage: Collection<TenantUsageDoc>;
}

export function acceptCollections(db: Db): AcceptCollections {
  return {
    apiKeys: db.collection<ApiKeyDoc>('api_keys'),
    idempotency: db.collection<IdempotencyDoc>('idempotency_keys'),
    meta: db.collection<MetaDoc>('prismo_meta'),
    usage: db.collection<TenantUsageDoc>('tenant_usage'),
  };
}

/** createIndex is a no-op when the index exists. */
export async function ensureAcceptIndexes(collections: AcceptCollections): Promise<void> {
  await collections.apiKeys.createIndex({ id: 1 }, { name: 'id', unique: true });
  await collections.apiKeys.createIndex({ tenantId: 1 }, { name: 'tenant' });
  // Expiry is the server's job: no sweeper. Expired records still present are treated as absent.
  await collections.idempotency.createIndex({ expiresAt: 1 }, { name: 'ttl', expireAfterSeconds: 0 });
  await collections.usage.createIndex({ expiresAt: 1 }, { name: 'ttl', expireAfterSeconds: 0 });
}
