// Per-suite databases cloned from what the global setup provisioned, and helpers to wait on conditions.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { connectPostgres, type Database, withDatabase } from '../../src/db/postgres.js';
import { connectMongo, ensureMongoIndexes, type MongoConnection } from '../../src/raw-store/collections.js';
import { ensureGridFsIndexes } from '../../src/raw-store/statement-files.js';

if (inject('pgServerUrl') === undefined) {
  throw new Error('this suite needs the databases of the integration project (npm test), not the unit project');
}

export const mongoUri = inject('mongoUri');
export const mongoReal = inject('mongoReal');
/** Why Mongo-backed suites skip here, or null when they run. */
export const mongoSkipReason = inject('mongoSkipReason');

const uniqueName = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`;

export interface TestPostgres {
  url: string;
  db: Database;
  drop(): Promise<void>;
}

/** A fresh, migrated database of the suite's own. */
export async function createTestPostgres(): Promise<TestPostgres> {
  const serverUrl = inject('pgServerUrl');
  const name = uniqueName('prismo_test');
  const admin = connectPostgres(serverUrl, { max: 1 });
  await admin.none('CREATE DATABASE $1:name TEMPLATE $2:name', [name, inject('pgTemplate')]);
  const url = withDatabase(serverUrl, name);
  const db = connectPostgres(url, { max: 8 });
  return {
    url,
    db,
    drop: async () => {
      await db.$pool.end();
      await admin.none('DROP DATABASE IF EXISTS $1:name WITH (FORCE)', [name]);
      await admin.$pool.end();
    },
  };
}

export interface TestMongo extends MongoConnection {
  dbName: string;
  drop(): Promise<void>;
}

/** A database of the suite's own on the resolved MongoDB, with the product's indexes. */
export async function createTestMongo(): Promise<TestMongo> {
  if (!mongoUri) throw new Error(`no MongoDB: ${mongoSkipReason}`);
  const dbName = uniqueName('prismo');
  const connection = await connectMongo(mongoUri, dbName);
  await ensureMongoIndexes(connection);
  await ensureGridFsIndexes(connection.db);
  return {
    ...connection,
    dbName,
    drop: async () => {
      await connection.db.dropDatabase();
      await connection.close();
    },
  };
}

export { waitFor } from './wait-for.js';
