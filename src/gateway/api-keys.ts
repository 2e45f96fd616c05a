// API keys are held only as SHA-256 digests; a presented key is hashed and its digest compared in
// constant time, so neither the keys nor their timing leak. Keys come from API_KEYS (static, for
// bootstrapping and development) and from the api_keys table (created, listed and revoked with the CLI).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Database } from '../db/postgres.js';

export const SCOPES = ['transactions:write', 'transactions:read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** Scopes of API_KEYS entries: everything but admin. */
export const STATIC_KEY_SCOPES: Scope[] = ['transactions:write', 'transactions:read'];

export interface ApiKeyEntry {
  tenantId: string;
  key: string;
  scopes?: Scope[];
}

/** Who is calling: the key's tenant, what it may do, and an id safe to log and to rate-limit by. */
export interface Principal {
  tenantId: string;
  scopes: readonly Scope[];
  keyId: string;
}

export interface ApiKeyVerifier {
  /** The principal owning the key, or undefined for an unknown or revoked key. */
  verify(presented: string): Promise<Principal | undefined>;
}

export const digestOf = (key: string) => createHash('sha256').update(key, 'utf8').digest();

/** First characters of a key, safe to log and to show in listings. */
export const keyPrefix = (key: string) => `${key.slice(0, 10)}…`;

export function createStaticVerifier(entries: readonly ApiKeyEntry[]): ApiKeyVerifier {
  const byDigest = new Map(
    entries.map(({ tenantId, key, scopes }) => {
      const hash = digestOf(key);
      return [
        hash.toString('hex'),
        { hash, principal: { tenantId, scopes: scopes ?? STATIC_KEY_SCOPES, keyId: `env:${keyPrefix(key)}` } },
      ] as const;
    }),
  );
  return {
    async verify(presented) {
      const hash = digestOf(presented);
      const entry = byDigest.get(hash.toString('hex'));
      return entry && timingSafeEqual(entry.hash, hash) ? entry.principal : undefined;
    },
  };
}

/**
 * Keys in the api_keys table, looked up by digest (the unique index makes the comparison the database's,
 * on digests, never on keys). Answers are cached for `cacheMs`, so a revocation takes effect within it.
 */
export function createDatabaseVerifier(db: Database, { cacheMs = 30_000, now = () => Date.now() } = {}): ApiKeyVerifier {
  const cache = new Map<string, { principal: Principal | undefined; until: number }>();
  return {
    async verify(presented) {
      const digest = digestOf(presented);
      const cacheKey = digest.toString('hex');
      const cached = cache.get(cacheKey);
      if (cached && cached.until > now()) return cached.principal;
      const row = await db.oneOrNone<{ id: bigint; tenant_id: string; scopes: Scope[] }>(
        'SELECT id, tenant_id, scopes FROM api_keys WHERE digest = $1 AND revoked_at IS NULL',
        [digest],
      );
      const principal = row ? { tenantId: row.tenant_id, scopes: row.scopes, keyId: `key:${row.id}` } : undefined;
      if (cache.size > 10_000) cache.clear();
      cache.set(cacheKey, { principal, until: now() + cacheMs });
      return principal;
    },
  };
}

/** The first verifier that knows the key wins. */
export function combineVerifiers(...verifiers: ApiKeyVerifier[]): ApiKeyVerifier {
  return {
    async verify(presented) {
      for (const verifier of verifiers) {
        const principal = await verifier.verify(presented);
        if (principal) return principal;
      }
      return undefined;
    },
  };
}
