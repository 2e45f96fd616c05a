// API keys are held only as SHA-256 digests; a presented key is hashed and its digest compared in
// constant time, so neither the keys nor their timing leak.
import { createHash, timingSafeEqual } from 'node:crypto';

export interface ApiKeyEntry {
  tenantId: string;
  key: string;
}

export interface ApiKeyVerifier {
  /** The tenant owning the key, or undefined for an unknown key. */
  verify(presented: string): string | undefined;
}

const digest = (key: string) => createHash('sha256').update(key, 'utf8').digest();

export function createApiKeyVerifier(entries: readonly ApiKeyEntry[]): ApiKeyVerifier {
  const byDigest = new Map(entries.map(({ tenantId, key }) => [digest(key).toString('hex'), { tenantId, hash: digest(key) }]));
  return {
    verify(presented) {
      const hash = digest(presented);
      const entry = byDigest.get(hash.toString('hex'));
      return entry && timingSafeEqual(entry.hash, hash) ? entry.tenantId : undefined;
    },
  };
}

/** First characters of a key, safe to log. */
export const keyPrefix = (key: string) => `${key.slice(0, 6)}…`;
