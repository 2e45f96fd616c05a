// The pg-promise root shared by every PostgreSQL adapter. BIGINT columns come back as BigInt: money is
// held in integer minor units and must never pass through a float.
import pgPromise from 'pg-promise';

export const pgp = pgPromise({
  capSQL: true,
  // A query the server never answered (query_timeout) leaves its connection mid-protocol: end it now, so the
  // ROLLBACK queued behind it fails at once instead of waiting as long again, and mark it broken so the pool
  // destroys it instead of lending it again (pg-promise does the latter itself for its connectivity errors).
  error(error: unknown, context) {
    if (!isReadTimeout(error) || !context.client) return;
    Object.assign(context.client, { $connectionError: error });
    (context.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  },
});
pgp.pg.types.setTypeParser(20, (value: string) => BigInt(value));

export type Database = pgPromise.IDatabase<object>;

/** A transaction's handle inside db.tx(...): what statements of one batch run on. */
export type Task = Parameters<Parameters<Database['tx']>[1]>[0];

/** pg's own error when query_timeout fires: the server did not answer at all. */
export const isReadTimeout = (error: unknown) => error instanceof Error && error.message === 'Query read timeout';

/** The time limits of a service's connections (PG_STATEMENT_TIMEOUT_MS, PG_CONNECT_TIMEOUT_MS). */
export interface PgTimeouts {
  /** statement_timeout; 0: none. */
  statementMs: number;
  connectMs: number;
}

/** A dead peer (a cut network, a host gone) is found by TCP keep-alive probes starting after this much silence. */
export const PG_KEEPALIVE_DELAY_MS = 10_000;
/**
 * How much longer than statement_timeout the client waits for an answer (query_timeout): the server cancels a
 * long statement itself (57014); this catches a server, or a network, that answers nothing at all.
 */
export const PG_QUERY_TIMEOUT_MARGIN_MS = 5_000;
/** Tooling's and tests' connections, which pass no timeouts: the connection deadline services had before. */
const TOOLING_CONNECT_MS = 5_000;

export function connectPostgres(url: string, options: { max?: number; applicationName?: string; timeouts?: PgTimeouts } = {}): Database {
  const statementMs = options.timeouts?.statementMs ?? 0;
  const db = pgp({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'prismo',
    // Fail fast when the server is unreachable: callers classify that as transient and retry.
    connectionTimeoutMillis: options.timeouts?.connectMs ?? TOOLING_CONNECT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: PG_KEEPALIVE_DELAY_MS,
    ...(statementMs > 0 ? { statement_timeout: statementMs, query_timeout: statementMs + PG_QUERY_TIMEOUT_MARGIN_MS } : {}),
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
