// API keys against a real PostgreSQL: stored only as digests, verified, listed by prefix, revoked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPostgres, type TestPostgres } from '../../test/support/databases.js';
import { createApiKey, listApiKeys, parseScopes, revokeApiKey } from './api-key-store.js';
import { combineVerifiers, createDatabaseVerifier, createStaticVerifier } from './api-keys.js';

let pg: TestPostgres;
beforeAll(async () => {
  pg = await createTestPostgres();
});
afterAll(() => pg.drop());

describe('API keys', () => {
  it('are stored as digests only, verified to their tenant and scopes, and refused once revoked', async () => {
    const { key, record } = await createApiKey(pg.db, 'acme', ['transactions:read'], 'reporting');
    const stored = await pg.db.one('SELECT tenant_id, prefix, encode(digest, $2) AS digest, scopes, label FROM api_keys WHERE id = $1', [
      record.id,
      'escape',
    ]);
    expect(JSON.stringify(stored)).not.toContain(key.slice(10));
    expect(stored.prefix).toBe(`${key.slice(0, 10)}…`);

    let now = 0;
    const verifier = createDatabaseVerifier(pg.db, { cacheMs: 1_000, now: () => now });
    expect(await verifier.verify(key)).toEqual({ tenantId: 'acme', scopes: ['transactions:read'], keyId: `key:${record.id}` });
    expect(await verifier.verify(`${key}x`)).toBeUndefined();

    expect(await revokeApiKey(pg.db, record.id)).toBe(true);
    expect(await revokeApiKey(pg.db, record.id)).toBe(false);
    // Cached until the cache time passes, then refused.
    expect(await verifier.verify(key)).toBeDefined();
    now += 1_001;
    expect(await verifier.verify(key)).toBeUndefined();

    const listed = await listApiKeys(pg.db, 'acme');
    expect(listed.find((k) => k.id === record.id)).toMatchObject({ tenantId: 'acme', label: 'reporting', scopes: ['transactions:read'] });
    expect(listed.find((k) => k.id === record.id)?.revokedAt).toBeInstanceOf(Date);
  });

  it('static and stored keys combine; the first that knows a key answers', async () => {
    const { key } = await createApiKey(pg.db, 'globex', ['admin']);
    const verifier = combineVerifiers(
      createStaticVerifier([{ tenantId: 'acme', key: 'static-key-0123456789' }]),
      createDatabaseVerifier(pg.db, { cacheMs: 0 }),
    );
    expect(await verifier.verify('static-key-0123456789')).toMatchObject({
      tenantId: 'acme',
      scopes: ['transactions:write', 'transactions:read'],
    });
    expect(await verifier.verify(key)).toMatchObject({ tenantId: 'globex', scopes: ['admin'] });
    expect(await verifier.verify('nobody-0123456789')).toBeUndefined();
  });

  it('parses scopes strictly', () => {
    expect(parseScopes('transactions:read, admin,admin')).toEqual(['transactions:read', 'admin']);
    expect(() => parseScopes('transactions:read,root')).toThrow(/subset of/);
    expect(() => parseScopes('')).toThrow();
  });
});
