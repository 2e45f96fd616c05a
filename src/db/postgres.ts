// The pg-promise root shared by every PostgreSQL adapter. BIGINT columns come back as BigInt: money is
// held in integer minor units and must never pass through a float.
import pgPromise from 'pg-promise';

export const pgp = pgPromise({ capSQL: true });
pgp.pg.types.setTypeParser(20, (value: string) => BigInt(value));

export type Database = pgPromise.IDatabase<object>;

/** A transaction's handle inside db.tx(...): what statements of one batch run on. */
export type Task = Parameters<Parameters<Database['tx']>[1]>[0];

export function connectPostgres(url: string, options: { max?: number; applicationName?: string } = {}): Database {
  const db = pgp({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'prismo',
    // Fail fast when the server is unreachable: callers classify that as transient and retry.
    connectionTimeoutMillis: 5_000,
  });
  // An idle connection dropped by the server (restart, failover) is an 'error' event on the pool; with no
  // listener it would crash the process. The pool discards the connection itself; the next query that
  // needs one fails as a classified, retried error.
  db.$pool.on('error', () => undefined);
  return db;
}

/** The same server's URL with another database name, for creating and dropping databases. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
