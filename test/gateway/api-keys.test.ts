// API keys against a real MongoDB: stored only as digests, verified, listed by prefix, revoked; and the
// one-off import of the keys and idempotency records kept in PostgreSQL before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AcceptCollections, acceptCollections, ensureAcceptIndexes } from '../../src/gateway/accept-collections.js';
import { createApiKey, listApiKeys, parseScopes, revokeApiKey } from '../../src/gateway/api-key-store.js';
import {
  combineVerifiers,
  createStaticVerifier,
  createStoredKeyVerifier,
  digestOf,
  UNKNOWN_KEYS_CACHED,
} from '../../src/gateway/api-keys.js';
import { importAcceptStateFromPostgres } from '../../src/gateway/import-from-postgres.js';
import { createTestMongo, createTestPostgres, mongoUri, type TestMongo, type TestPostgres } from '../support/databases.js';
import { createLegacyKeyTables } from '../support/legacy-key-tables.js';

describe.skipIf(!mongoUri)('API keys', () => {
  let pg: TestPostgres;
  let mongo: TestMongo;
  let accept: AcceptCollections;
  beforeAll(async () => {
    [pg, mongo] = await Promise.all([createTestPostgres(), createTestMongo()]);
    accept = acceptCollections(mongo.db);
    await ensureAcceptIndexes(accept);
  });
  afterAll(async () => {
    await pg?.drop();
    await mongo?.drop();
  });

  it('are stored as digests only, verified to their tenant and scopes, and refused once revoked', async () => {
    const { key, record } = await createApiKey(accept, 'acme', ['transactions:read'], 'reporting');
    const stored = await accept.apiKeys.findOne({ id: record.id });
    expect(JSON.stringify(stored)).not.toContain(key.slice(10));
    expect(stored).toMatchObject({
      _id: digestOf(key).toString('hex'),
      tenantId: 'acme',
      prefix: `${key.slice(0, 10)}…`,
      label: 'reporting',
    });

    let now = 0;
    const verifier = createStoredKeyVerifier(accept.apiKeys, { cacheMs: 1_000, now: () => now });
    expect(await verifier.verify(key)).toEqual({ tenantId: 'acme', scopes: ['transactions:read'], keyId: `key:${record.id}` });
    expect(await verifier.verify(`${key}x`)).toBeUndefined();

    expect(await revokeApiKey(accept, record.id)).toBe(true);
    expect(await revokeApiKey(accept, record.id)).toBe(false);
    // Cached until the cache time passes, then refused; recognised (looked up again) until that lookup fails.
    expect(await verifier.verify(key)).toBeDefined();
    now += 1_001;
    expect(verifier.known?.(key)).toBeUndefined();
    expect(verifier.recognised?.(key)).toBe(true);
    expect(await verifier.verify(key)).toBeUndefined();
    expect(verifier.recognised?.(key)).toBe(false);

    const listed = await listApiKeys(accept, 'acme');
    expect(listed.find((k) => k.id === record.id)).toMatchObject({ tenantId: 'acme', label: 'reporting', scopes: ['transactions:read'] });
    expect(listed.find((k) => k.id === record.id)?.revokedAt).toBeInstanceOf(Date);
  });

  it('a flood of unknown keys never evicts a valid key from the cache', async () => {
    const { key, record } = await createApiKey(accept, 'initech', ['transactions:read']);
    const verifier = createStoredKeyVerifier(accept.apiKeys, { cacheMs: 600_000 });
    expect(await verifier.verify(key)).toMatchObject({ tenantId: 'initech' });
    expect(verifier.known?.(key)).toMatchObject({ tenantId: 'initech' });
    for (let i = 0; i < 3 * UNKNOWN_KEYS_CACHED; i++) expect(await verifier.verify(`pk_made-up-${i}-0123456789`)).toBeUndefined();
    // Revoked in MongoDB: answered from the cache still, so it was never evicted.
    expect(await revokeApiKey(accept, record.id)).toBe(true);
    expect(verifier.known?.(key)).toMatchObject({ tenantId: 'initech' });
    expect(await verifier.verify(key)).toMatchObject({ tenantId: 'initech' });
    // An unknown key is not known without a lookup, nor recognised; the valid one is.
    expect(verifier.known?.('pk_made-up-0-0123456789')).toBeUndefined();
    expect(verifier.recognised?.('pk_made-up-0-0123456789')).toBe(false);
    expect(verifier.recognised?.(key)).toBe(true);
  });

  it('static and stored keys combine; the first that knows a key answers', async () => {
    const { key } = await createApiKey(accept, 'globex', ['admin']);
    const verifier = combineVerifiers(
      createStaticVerifier([{ tenantId: 'acme', key: 'static-key-0123456789' }]),
      createStoredKeyVerifier(accept.apiKeys, { cacheMs: 0 }),
    );
    expect(await verifier.verify('static-key-0123456789')).toMatchObject({
      tenantId: 'acme',
      scopes: ['transactions:write', 'transactions:read'],
    });
    expect(await verifier.verify(key)).toMatchObject({ tenantId: 'globex', scopes: ['admin'] });
    expect(await verifier.verify('nobody-0123456789')).toBeUndefined();
  });

  it('keys and live idempotency records kept in PostgreSQL are imported once, ids and revocations kept', async () => {
    await createLegacyKeyTables(pg.db);
    const digest = digestOf('pk_legacy-key-0123456789');
    await pg.db.none(
      `INSERT INTO api_keys (id, tenant_id, prefix, digest, scopes, label, revoked_at) OVERRIDING SYSTEM VALUE VALUES
        (900, 'legacy', 'pk_legacy-…', $1, '{transactions:write}', 'old', NULL),
        (901, 'legacy', 'pk_revoked…', $2, '{transactions:read}', NULL, now())`,
      [digest, digestOf('pk_revoked-key-0123456789')],
    );
    await pg.db.none(
      `INSERT INTO idempotency_keys (tenant_id, key, request_hash, state, status_code, headers, body, expires_at) VALUES
        ('legacy', 'live', 'abc', 'done', 202, '{"location":"/x"}', '{"id":"x"}', now() + interval '1 hour'),
        ('legacy', 'expired', 'abc', 'done', 202, NULL, '{}', now() - interval '1 second'),
        ('legacy', 'running', 'abc', 'in_flight', NULL, NULL, NULL, now() + interval '1 hour')`,
    );
    expect(await importAcceptStateFromPostgres(pg.db, accept)).toEqual({ keys: 2, records: 1 });
    expect(await importAcceptStateFromPostgres(pg.db, accept)).toBe('already-done');

    const verifier = createStoredKeyVerifier(accept.apiKeys, { cacheMs: 0 });
    expect(await verifier.verify('pk_legacy-key-0123456789')).toEqual({
      tenantId: 'legacy',
      scopes: ['transactions:write'],
      keyId: 'key:900',
    });
    expect(await verifier.verify('pk_revoked-key-0123456789')).toBeUndefined();
    expect(await accept.idempotency.findOne({ _id: JSON.stringify(['legacy', 'live']) })).toMatchObject({
      state: 'done',
      statusCode: 202,
      requestHash: 'legacy:abc',
    });
    expect(
      await accept.idempotency.countDocuments({
        _id: { $in: [JSON.stringify(['legacy', 'expired']), JSON.stringify(['legacy', 'running'])] },
      }),
    ).toBe(0);
    // New keys get ids of their own beside the imported ones.
    const { record } = await createApiKey(accept, 'legacy', ['transactions:read']);
    expect(record.id).toMatch(/^\d{9}$/);
    expect((await listApiKeys(accept, 'legacy')).map((k) => k.id)).toEqual(['900', '901', record.id]);
  });

  it('parses scopes strictly', () => {
    expect(parseScopes('transactions:read, admin,admin')).toEqual(['transactions:read', 'admin']);
    expect(() => parseScopes('transactions:read,root')).toThrow(/subset of/);
    expect(() => parseScopes('')).toThrow();
  });
});
