// Creating, listing and revoking the API keys kept in PostgreSQL. A key is shown once, at creation;
// afterwards only its prefix exists anywhere readable.
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/postgres.js';
import { digestOf, keyPrefix, SCOPES, type Scope } from './api-keys.js';

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  prefix: string;
  scopes: Scope[];
  label: string | null;
  createdAt: Date;
  revokedAt: Date | null;
}

export function parseScopes(text: string): Scope[] {
  const scopes = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (scopes.length === 0 || unknown.length)
    throw new Error(`scopes must be a comma-separated subset of ${SCOPES.join(', ')} (got "${text}")`);
  return [...new Set(scopes)] as Scope[];
}

export async function createApiKey(
  db: Database,
  tenantId: string,
  scopes: Scope[],
  label: string | null = null,
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = `pk_${randomBytes(32).toString('base64url')}`;
  const row = await db.one<{ id: bigint; created_at: Date }>(
    'INSERT INTO api_keys (tenant_id, prefix, digest, scopes, label) VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at',
    [tenantId, keyPrefix(key), digestOf(key), scopes, label],
  );
  return {
    key,
    record: { id: row.id.toString(), tenantId, prefix: keyPrefix(key), scopes, label, createdAt: row.created_at, revokedAt: null },
  };
}

export async function listApiKeys(db: Database, tenantId?: string): Promise<ApiKeyRecord[]> {
  const rows = await db.any<{
    id: bigint;
    tenant_id: string;
    prefix: string;
    scopes: Scope[];
    label: string | null;
    created_at: Date;
    revoked_at: Date | null;
  }>(
    'SELECT id, tenant_id, prefix, scopes, label, created_at, revoked_at FROM api_keys WHERE $1::text IS NULL OR tenant_id = $1 ORDER BY id',
    [tenantId ?? null],
  );
  return rows.map((r) => ({
    id: r.id.toString(),
    tenantId: r.tenant_id,
    prefix: r.prefix,
    scopes: r.scopes,
    label: r.label,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  }));
}

/** Revokes by id; returns false when there is no such unrevoked key. */
export async function revokeApiKey(db: Database, id: string): Promise<boolean> {
  const result = await db.result('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [id]);
  return result.rowCount === 1;
}
