// The MongoDB client every service connects with: one place for its options.
import { MongoClient, MongoOperationTimeoutError, type OperationOptions } from 'mongodb';

export async function connectMongoClient(uri: string): Promise<MongoClient> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, appName: 'prismo' });
  await client.connect();
  return client;
}

/**
 * How long one MongoDB operation of the accept path (the key lookup, the idempotency record, the
 * waiting-documents count, the insert) may take, every step included.
 */
export const ACCEPT_PATH_TIMEOUT_MS = 10_000;

/** Options that bind an operation to the deadline; typed as OperationOptions so write options take them too. */
export type AcceptBound = OperationOptions & { signal: AbortSignal };

/**
 * Runs one accept-path operation with an AbortSignal that fires after ACCEPT_PATH_TIMEOUT_MS, its reason a
 * MongoOperationTimeoutError (a MongoError, so classified as MongoDB unavailable: a 503).
 *
 * Without it nothing of ours bounds a command once written: the driver's `timeoutMS` is a no-op in
 * mongodb 7 (resolveOptions drops it) and socketTimeoutMS is unset, so a server that stops answering (a
 * network partition) holds the request until the driver's monitor gives up on it (70 s in
 * test/accept-path.test.ts); and mongodb 7.9.0 can hand out a connection whose socket the server has just
 * ended (destroyed, its 'close' not yet emitted), write to it, and wait for a 'drain' that never comes
 * (docs/benchmarks.md, eighth round). The signal ends each stage: server selection, checkout, the wait for
 * 'drain', the read. The driver types `signal` on reads only, but every operation's options reach the
 * connection, writes included; that test ("MongoDB stops answering") holds it to that.
 */
export async function withinAcceptDeadline<T>(operation: (bound: AcceptBound) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const bound: AcceptBound = { signal: controller.signal };
  const timer = setTimeout(
    () => controller.abort(new MongoOperationTimeoutError(`MongoDB did not answer within ${ACCEPT_PATH_TIMEOUT_MS} ms`)),
    ACCEPT_PATH_TIMEOUT_MS,
  );
  try {
    return await operation(bound);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * withinAcceptDeadline with a deadline of the caller's: one AbortSignal shared by every operation `operation`
 * runs, fired after `timeoutMs` with a MongoOperationTimeoutError saying `what` (a 503, as above). For work of
 * many operations that answers one caller, such as storing an uploaded statement (STATEMENT_STORE_TIMEOUT_MS).
 */
export async function withinMongoDeadline<T>(timeoutMs: number, what: string, operation: (bound: AcceptBound) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new MongoOperationTimeoutError(`${what}: MongoDB did not finish within ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    return await operation({ signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}
