// API keys held only as SHA-256 digests, compared in constant time, so neither the keys nor their timing leak;
// from API_KEYS (bootstrapping, development) and MongoDB's api_keys (made, listed, revoked with the CLI).
import { createHash, hash, timingSafeEqual } from 'node:crypto';
import type { Collection } from 'mongodb';
import { withinAcceptDeadline } from '../db/mongo.js';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { ApiKeyDoc } from './accept-collections.js';
import { type Scope, STATIC_KEY_SCOPES } from './scopes.js';

export { SCOPES, type Scope, STATIC_KEY_SCOPES } from './scopes.js';

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

/** The same digest in hex, as keys are looked up by it: one-shot, an eighth of createHash's cost on every request. */
export const digestHexOf = (key: string) => hash('sha256', key, 'hex');

/** First characters of a key, safe to log and to show in listings. */
export const keyPrefix = (key: string) => `${key.slice(0, 10)}…`;

export function createStaticVerifier(entries: readonly ApiKeyEntry[]): ApiKeyVerifier {
  const byDigest = new Map(
    entries.map(({ tenantId, key, scopes }) => {
      const digest = digestOf(key);
      return [
        digest.toString('hex'),
        { digest, principal: { tenantId, scopes: scopes ?? STATIC_KEY_SCOPES, keyId: `env:${keyPrefix(key)}` } },
      ] as const;
    }),
  );
  return {
    async verify(presented) {
      const hex = digestHexOf(presented);
      const entry = byDigest.get(hex);
      return entry && timingSafeEqual(entry.digest, Buffer.from(hex, 'hex')) ? entry.principal : undefined;
    },
  };
}

/**
 * Keys in MongoDB's api_keys, looked up by digest (the document id, so the comparison is the database's,
 * on digests, never on keys). Answers are cached for `cacheMs`, so a revocation takes effect within it.
 * MongoDB unreachable is a TransientError: the gateway answers 503, as it would for the insert after it.
 */
export function createStoredKeyVerifier(apiKeys: Collection<ApiKeyDoc>, { cacheMs = 30_000, now = () => Date.now() } = {}): ApiKeyVerifier {
  const cache = new Map<string, { principal: Principal | undefined; until: number }>();
  return {
    async verify(presented) {
      const cacheKey = digestHexOf(presented);
      const cached = cache.get(cacheKey);
      if (cached && cached.until > now()) return cached.principal;
      let doc: ApiKeyDoc | null;
      try {
        doc = await withinAcceptDeadline((bound) => apiKeys.findOne({ _id: cacheKey, revokedAt: null }, bound));
      } catch (error) {
        throw classifyMongoError(error);
      }
      const principal = doc ? { tenantId: doc.tenantId, scopes: doc.scopes, keyId: `key:${doc.id}` } : undefined;
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
