// Services starting together all apply pending migrations at start: on a fresh database, three at once
// take turns under the advisory lock; one applies every migration, the others find them applied, none fails.

import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { MIGRATIONS_DIR, migrate } from '../../src/db/migrate.js';
import { connectPostgres, withDatabase } from '../../src/db/postgres.js';

describe('migrate', () => {
  it('three services migrating one fresh database at once: each starts, the migrations run once', async () => {
    const serverUrl = inject('pgServerUrl');
    const name = `prismo_migrate_${randomBytes(4).toString('hex')}`;
    const admin = connectPostgres(serverUrl, { max: 1 });
    await admin.none('CREATE DATABASE $1:name', [name]);
    try {
      const url = withDatabase(serverUrl, name);
      const applied = await Promise.all([migrate(url), migrate(url), migrate(url)]);
      const files = readdirSync(MIGRATIONS_DIR).filter((file) => file.endsWith('.sql')).length;
      expect(applied.map((names) => names.length).sort()).toEqual([0, 0, files]);
      const db = connectPostgres(url, { max: 1 });
      expect(await db.one('SELECT count(*)::int AS n FROM pgmigrations', [], (r) => r.n)).toBe(files);
      await db.$pool.end();
    } finally {
      await admin.none('DROP DATABASE IF EXISTS $1:name WITH (FORCE)', [name]);
      await admin.$pool.end();
    }
  });
});
