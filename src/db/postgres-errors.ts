// PostgreSQL failures classified at the adapter boundary, for every service that talks to it.
import { PermanentError, TransientError, UnavailableError } from '../domain/errors.js';
import { isReadTimeout, pgp } from './postgres.js';

/**
 * SQLSTATEs that say the server is away or cannot serve now, whatever was asked: connection exceptions (08,
 * but 08P01), insufficient resources (53), operator intervention (57: shutdown, cannot connect now, and
 * 57014, a statement cancelled by statement_timeout: the server too slow or a lock held too long, which a
 * smaller batch would meet too), system errors (58), and a read-only transaction (a failover to a standby).
 */
const UNAVAILABLE_SQLSTATE = /^(08(?!P01)|53|57|58)|^25006$|^55P03$/;

/** pg's, pg-pool's and pg-promise's own errors, which carry no SQLSTATE, for a connection lost, refused or never made. */
const CONNECTION_MESSAGES = new RegExp(
  '^(' +
    [
      'Connection terminated',
      'timeout exceeded when trying to connect',
      'timeout expired',
      'Client has encountered a connection error',
      'Client was closed',
      'Cannot use a pool after calling end',
      'Cannot execute a query on a disconnected client',
      'Querying against a released or lost connection',
      'Connection pool of the database object has been destroyed',
    ].join('|') +
    ')',
);

/**
 * Whether a failure says PostgreSQL is unavailable rather than that something asked of it failed: a SQLSTATE
 * above, a socket's error (ECONNREFUSED, ECONNRESET, ...), a connection pg gave up on, or no answer at all.
 */
export function isPgUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') return UNAVAILABLE_SQLSTATE.test(code) || /^E[A-Z]+$/.test(code);
  const message = error instanceof Error ? error.message : '';
  return isReadTimeout(error) || CONNECTION_MESSAGES.test(message);
}

/**
 * Constraint and data errors (SQLSTATE classes 22 and 23, and 08P01) are the rows' fault: permanent, so the
 * batch is split to find them. PostgreSQL away (isPgUnavailable) is an UnavailableError: retried, charged to
 * no document. Anything else (a serialization failure, a trigger's exception, an error of our own) is
 * transient: a read answers 503; a batch write is split and a document failing alone is charged an attempt.
 */
export function classifyPgError(error: unknown): Error {
  if (error instanceof TransientError || error instanceof PermanentError) return error;
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  // 08P01 (protocol violation) is what a value the wire format cannot carry, such as a NUL in text, causes.
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23') || code === '08P01')) {
    return new PermanentError(`pg_${code}`, `PostgreSQL rejected the row: ${message}`, { cause: error });
  }
  if (isPgUnavailable(error)) {
    return new UnavailableError(typeof code === 'string' ? `pg_${code}` : 'pg_unavailable', `PostgreSQL: ${message}`, { cause: error });
  }
  return new TransientError(typeof code === 'string' ? `pg_${code}` : 'pg_error', `PostgreSQL: ${message}`, { cause: error });
}

/**
 * Runs a read, classifying PostgreSQL's failures: unreachable, pool exhausted or timed out is transient (503).
 * A result of the wrong shape (pg-promise's QueryResultError: no row where one was expected, or several) is
 * a bug of the query or its caller, not PostgreSQL's state: it goes on as it is, a 500.
 */
export async function readClassified<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    if (error instanceof pgp.errors.QueryResultError) throw error;
    throw classifyPgError(error);
  }
}
