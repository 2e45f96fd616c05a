// `prismo migrate` and a processor's start copy the API keys PostgreSQL still holds into MongoDB before
// the migration that drops their tables, and refuse to drop them without a MongoDB to copy them to.
import { readdirSync } from 'node:fs';
import { runner } from 'node-pg-migrate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../src/cli/migrate-database.js';
import { createLogger } from '../src/config/logger.js';
import { MIGRATIONS_DIR } from '../src/db/migrate.js';
import { acceptCollections } from '../src/gateway/accept-collections.js';
import { createStoredKeyVerifier, digestOf } from '../src/gateway/api-keys.js';
import { createTestMongo, createTestPostgres, mongoUri, type TestMongo, type TestPostgres } from './support/databases.js';
import { createLegacyKeyTables, DROP_MIGRATION } from './support/legacy-key-tables.js';

describe.skipIf(!mongoUri)('migrating past the PostgreSQL key tables', () => {
  let pg: TestPostgres;
  let mongo: TestMongo;
  beforeAll(async () => {
    [pg, mongo] = await Promise.all([createTestPostgres(), createTestMongo()]);
  });
  afterAll(async () => {
    await pg?.drop();
    await mongo?.drop();
  });
  const tablesLeft = () =>
    pg.db.one(
      "SELECT (to_regclass('api_keys') IS NOT NULL)::int + (to_regclass('idempotency_keys') IS NOT NULL)::int AS n",
      [],
      (r) => r.n,
    );

  it('copies the keys into MongoDB first, and without MONGODB_URI drops nothing', async () => {
    // An installation from before the move: the migrations after it not applied yet (their down halves run),
    // the tables hold a key, the drop is still to come.
    const later = readdirSync(MIGRATIONS_DIR)
      .filter((file) => file.endsWith('.sql'))
      .map((file) => file.replace(/\.sql$/, ''))
      .filter((name) => name > DROP_MIGRATION)
      .sort();
    if (later.length)
      await runner({
        databaseUrl: pg.url,
        dir: MIGRATIONS_DIR,
        direction: 'down',
        count: later.length,
        migrationsTable: 'pgmigrations',
        log: () => {},
      });
    await createLegacyKeyTables(pg.db);
    await pg.db.none(
      `INSERT INTO api_keys (id, tenant_id, prefix, digest, scopes) OVERRIDING SYSTEM VALUE VALUES (77, 'legacy', 'pk_old…', $1, '{transactions:write}')`,
      [digestOf('pk_old-key-0123456789')],
    );
    await pg.db.none('DELETE FROM pgmigrations WHERE name = $1', [DROP_MIGRATION]);
    const logger = createLogger('silent');

    await expect(migrateDatabase(pg.url, { dbName: mongo.dbName }, logger)).rejects.toThrow(
      /set MONGODB_URI so that `prismo migrate` copies them/,
    );
    expect(await tablesLeft()).toBe(2);

    expect(await migrateDatabase(pg.url, { uri: mongoUri!, dbName: mongo.dbName }, logger)).toEqual([DROP_MIGRATION, ...later]);
    expect(await tablesLeft()).toBe(0);
    const verifier = createStoredKeyVerifier(acceptCollections(mongo.db).apiKeys, { cacheMs: 0 });
    expect(await verifier.verify('pk_old-key-0123456789')).toEqual({ tenantId: 'legacy', scopes: ['transactions:write'], keyId: 'key:77' });
    // Current: nothing to copy, nothing to apply, no MongoDB needed.
    expect(await migrateDatabase(pg.url, { dbName: mongo.dbName }, logger)).toEqual([]);
  });
});
