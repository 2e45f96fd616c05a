// The PostgreSQL tables API keys and idempotency records lived in before they moved to MongoDB, as the
// migration that drops them recreates them on the way down: for tests of the import that runs first.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS_DIR } from '../../src/db/migrate.js';
import type { Database } from '../../src/db/postgres.js';

export const DROP_MIGRATION = '1732500000006_drop-postgres-key-tables';

export async function createLegacyKeyTables(db: Database): Promise<void> {
  const sql = readFileSync(join(MIGRATIONS_DIR, `${DROP_MIGRATION}.sql`), 'utf8');
  await db.none(sql.slice(sql.indexOf('-- Down Migration')));
}
