// Creating, listing and revoking API keys, kept in MongoDB (the accept path's only database). A key is
// shown once, at creation; afterwards only its digest and prefix exist anywhere readable.

import { randomBytes, randomInt } from 'node:crypto';
import type { Bound } from '../db/mongo.js';
import { classifyMongoError, isDuplicateKey } from '../db/mongo-errors.js';
import type { AcceptCollections, ApiKeyDoc } from './accept-collections.js';
import { digestHexOf, keyPrefix, SCOPES, type Scope } from './api-keys.js';

/** A key as listings show it: everything but the digest. */
export type ApiKeyRecord = Omit<ApiKeyDoc, '_id'>;

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

/**
 * A new public key id: nine random digits, so ids stay short numbers as they were in PostgreSQL (whose
 * small ids are imported as they are) without a counter every key creation would contend on.
 */
const newKeyId = () => String(randomInt(100_000_000, 1_000_000_000));

export async function createApiKey(
  collections: Pick<AcceptCollections, 'apiKeys'>,
  tenantId: string,
  scopes: Scope[],
  label: string | null = null,
  bound?: Bound,
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = `pk_${randomBytes(32).toString('base64url')}`;
  // The unique index on id makes a repeated id (one in 900 million) a duplicate-key error: draw again.
  for (let attempt = 1; ; attempt++) {
    const record: ApiKeyRecord = {
      id: newKeyId(),
      tenantId,
      prefix: keyPrefix(key),
      scopes,
      label,
      createdAt: new Date(),
      revokedAt: null,
    };
    try {
      await collections.apiKeys.insertOne({ _id: digestHexOf(key), ...record }, bound);
      return { key, record };
    } catch (error) {
      if (attempt < 3 && isDuplicateKey(error)) continue;
      throw classifyMongoError(error);
    }
  }
}

export async function listApiKeys(
  collections: Pick<AcceptCollections, 'apiKeys'>,
  tenantId?: string,
  bound?: Bound,
): Promise<ApiKeyRecord[]> {
  const docs = await collections.apiKeys.find(tenantId ? { tenantId } : {}, bound).toArray();
  // Oldest first; ids break ties (keys imported together share their creation time).
  return docs
    .map(({ _id, ...record }) => record)
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || Number(a.id) - Number(b.id));
}

/** Revokes by id; returns false when there is no such unrevoked key. */
export async function revokeApiKey(collections: Pick<AcceptCollections, 'apiKeys'>, id: string, bound?: Bound): Promise<boolean> {
  const result = await collections.apiKeys.updateOne({ id, revokedAt: null }, { $set: { revokedAt: new Date() } }, bound);
  return result.modifiedCount === 1;
}
