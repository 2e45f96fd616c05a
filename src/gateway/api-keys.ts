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
  /**
   * The principal when the key is known without asking a database (a static key, or a valid key still
   * cached), else undefined: what the door may let through while an address is over its failure budget.
   */
  known?(presented: string): Principal | undefined;
  /** Whether the key was valid at its last lookup, however long ago: looked up again even while its address is limited. */
  recognised?(presented: string): boolean;
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
  const known = (presented: string) => {
    const hex = digestHexOf(presented);
    const entry = byDigest.get(hex);
    return entry && timingSafeEqual(entry.digest, Buffer.from(hex, 'hex')) ? entry.principal : undefined;
  };
  return { known, verify: async (presented) => known(presented) };
}

/** How many unknown keys are remembered as unknown: a flood of made-up keys recycles these, never the valid ones. */
export const UNKNOWN_KEYS_CACHED = 1_000;
/** How many valid keys are remembered at most (a bound, not a working size: installations hold far fewer). */
const VALID_KEYS_CACHED = 100_000;

/**
 * A cache holding at most `max` entries, the oldest inserted dropped first. `get` answers while an entry is
 * fresh; an expired one is kept (for `has`) until it is replaced, deleted or pushed out.
 */
function boundedCache<T>(max: number, now: () => number) {
  const entries = new Map<string, { value: T; until: number }>();
  return {
    get(key: string): { value: T } | undefined {
      const entry = entries.get(key);
      return entry && entry.until > now() ? entry : undefined;
    },
    has: (key: string) => entries.has(key),
    delete: (key: string) => entries.delete(key),
    set(key: string, value: T, ttlMs: number) {
      entries.delete(key);
      if (entries.size >= max) entries.delete(entries.keys().next().value as string);
      entries.set(key, { value, until: now() + ttlMs });
    },
  };
}

/**
 * Keys in MongoDB's api_keys, looked up by digest (the document id, so the comparison is the database's,
 * on digests, never on keys). Answers are cached for `cacheMs`, so a revocation takes effect within it.
 * Valid and unknown keys are cached apart: unknown ones in a small bounded cache of their own, so a flood of
 * made-up keys costs lookups (which the door's per-address limit bounds) but never evicts a valid key.
 * MongoDB unreachable is a TransientError: the gateway answers 503, as it would for the insert after it.
 */
export function createStoredKeyVerifier(apiKeys: Collection<ApiKeyDoc>, { cacheMs = 30_000, now = () => Date.now() } = {}): ApiKeyVerifier {
  const valid = boundedCache<Principal>(VALID_KEYS_CACHED, now);
  const unknown = boundedCache<true>(UNKNOWN_KEYS_CACHED, now);
  return {
    known: (presented) => valid.get(digestHexOf(presented))?.value,
    recognised: (presented) => valid.has(digestHexOf(presented)),
    async verify(presented) {
      const cacheKey = digestHexOf(presented);
      const cached = valid.get(cacheKey);
      if (cached) return cached.value;
      if (unknown.get(cacheKey)) return undefined;
      let doc: ApiKeyDoc | null;
      try {
        doc = await withinAcceptDeadline((bound) => apiKeys.findOne({ _id: cacheKey, revokedAt: null }, bound));
      } catch (error) {
        throw classifyMongoError(error);
      }
      if (!doc) {
        valid.delete(cacheKey);
        unknown.set(cacheKey, true, cacheMs);
        return undefined;
      }
      const principal = { tenantId: doc.tenantId, scopes: doc.scopes, keyId: `key:${doc.id}` };
      valid.set(cacheKey, principal, cacheMs);
      return principal;
    },
  };
}

/** The first verifier that knows the key wins. */
export function combineVerifiers(...verifiers: ApiKeyVerifier[]): ApiKeyVerifier {
  return {
    known(presented) {
      for (const verifier of verifiers) {
        const principal = verifier.known?.(presented);
        if (principal) return principal;
      }
      return undefined;
    },
    recognised: (presented) => verifiers.some((verifier) => verifier.recognised?.(presented)),
    async verify(presented) {
      for (const verifier of verifiers) {
        const principal = await verifier.verify(presented);
        if (principal) return principal;
      }
      return undefined;
    },
  };
}
