// PostgreSQL failures classified at the adapter boundary, for every service that talks to it.
import { PermanentError, TransientError } from '../domain/errors.js';

/**
 * Constraint and data errors (SQLSTATE classes 22 and 23, and 08P01) are the rows' fault: permanent, so the
 * batch is split to find them. Everything else (connection loss, shutdown, serialization, timeouts) is transient.
 */
export function classifyPgError(error: unknown): Error {
  const code = (error as { code?: unknown })?.code;
  const message = error instanceof Error ? error.message : String(error);
  // 08P01 (protocol violation) is what a value the wire format cannot carry, such as a NUL in text, causes.
  if (typeof code === 'string' && (code.startsWith('22') || code.startsWith('23') || code === '08P01')) {
    return new PermanentError(`pg_${code}`, `PostgreSQL rejected the row: ${message}`, { cause: error });
  }
  return new TransientError(typeof code === 'string' ? `pg_${code}` : 'pg_unavailable', `PostgreSQL: ${message}`, { cause: error });
}

/** Runs a read, classifying PostgreSQL's failures: unreachable, pool exhausted or timed out is transient (503). */
export async function readClassified<T>(query: () => Promise<T>): Promise<T> {
  try {
    return await query();
  } catch (error) {
    throw classifyPgError(error);
  }
}
