// Creating, listing and revoking API keys, kept in MongoDB (the accept path's only database). A key is
// shown once, at creation; afterwards only its digest and prefix exist anywhere readable.
import { randomBytes } from 'node:crypto';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { AcceptCollections } from './accept-collections.js';
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

/** The next public key id: a counter document, so ids stay small numbers as they were in PostgreSQL. */
async function nextKeyId(collections: Pick<AcceptCollections, 'counters'>): Promise<string> {
  const counter = await collections.counters.findOneAndUpdate(
    { _id: 'api_keys' },
    { $inc: { seq: 1 } },
    { upsert: true, returnDocument: 'after' },
  );
  return String(counter!.seq);
}

export async function createApiKey(
  collections: Pick<AcceptCollections, 'apiKeys' | 'counters'>,
  tenantId: string,
  scopes: Scope[],
  label: string | null = null,
): Promise<{ key: string; record: ApiKeyRecord }> {
  const key = `pk_${randomBytes(32).toString('base64url')}`;
  try {
    const record: ApiKeyRecord = {
      id: await nextKeyId(collections),
      tenantId,
      prefix: keyPrefix(key),
      scopes,
      label,
      createdAt: new Date(),
      revokedAt: null,
    };
    await collections.apiKeys.insertOne({ _id: digestOf(key).toString('hex'), ...record });
    return { key, record };
  } catch (error) {
    throw classifyMongoError(error);
  }
}

export async function listApiKeys(collections: Pick<AcceptCollections, 'apiKeys'>, tenantId?: string): Promise<ApiKeyRecord[]> {
  const docs = await collections.apiKeys.find(tenantId ? { tenantId } : {}).toArray();
  return docs.map(({ _id, ...record }) => record).sort((a, b) => Number(a.id) - Number(b.id));
}

/** Revokes by id; returns false when there is no such unrevoked key. */
export async function revokeApiKey(collections: Pick<AcceptCollections, 'apiKeys'>, id: string): Promise<boolean> {
  const result = await collections.apiKeys.updateOne({ id, revokedAt: null }, { $set: { revokedAt: new Date() } });
  return result.modifiedCount === 1;
}
