import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgp } from '../../src/db/postgres.js';
import { readClassified } from '../../src/db/postgres-errors.js';
import { TransientError, UnavailableError } from '../../src/domain/errors.js';
import { createTestPostgres, type TestPostgres } from '../support/databases.js';

describe('readClassified', () => {
  let pg: TestPostgres;
  beforeAll(async () => {
    pg = await createTestPostgres();
  });
  afterAll(() => pg?.drop());

  it('a result of the wrong shape (no row where one was expected) is a bug: it goes on unclassified, a 500', async () => {
    const failure = await readClassified(() => pg.db.one('SELECT 1 WHERE false')).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(pgp.errors.QueryResultError);
    expect(failure).not.toBeInstanceOf(TransientError);
  });

  it('PostgreSQL away is unavailable (a 503 with Retry-After); a value read is returned', async () => {
    await expect(
      readClassified(() =>
        Promise.reject(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })),
      ),
    ).rejects.toBeInstanceOf(UnavailableError);
    await expect(readClassified(() => pg.db.one('SELECT 7 AS n', [], (row: { n: number }) => row.n))).resolves.toBe(7);
  });
});
