// The MongoDB client every service connects with: one place for its options.
import { MongoClient, MongoOperationTimeoutError, type OperationOptions } from 'mongodb';
import { classifyMongoError } from './mongo-errors.js';

export async function connectMongoClient(uri: string): Promise<MongoClient> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, appName: 'prismo' });
  await client.connect();
  return client;
}

/**
 * How long one MongoDB operation may take, every step included, by who waits for it (docs/operations.md,
 * "Time limits"). Fixed: each is far above what a healthy server takes, and only bounds a server that does
 * not answer.
 */
export const MONGO_DEADLINES_MS = {
  /** The accept path: the key lookup, the idempotency record, the waiting-documents count, the insert. */
  accept: 10_000,
  /**
   * One batch stage of the processor (a claim, a mark, its logs, a checkpoint): aborted, the stage is
   * retried like any outage, and each of these operations is safe to repeat (docs/processor.md).
   */
  processor: 30_000,
  /** The board's and the admin routes' reads (and a payload correction): a person waits for the page. */
  board: 5_000,
  /** One read of reconciliation (a count, a page of up to a thousand documents, a distinct). */
  reconcile: 60_000,
  /** A CLI command's reads and small writes (status, keys, replay's count and its pages). */
  command: 30_000,
} as const;

export const ACCEPT_PATH_TIMEOUT_MS = MONGO_DEADLINES_MS.accept;

/** Options that bind an operation to a deadline; typed as OperationOptions so write options take them too. */
export type Bound = OperationOptions & { signal: AbortSignal };
export type AcceptBound = Bound;

/**
 * Runs one MongoDB operation with an AbortSignal that fires after `ms`, its reason a
 * MongoOperationTimeoutError (a MongoError, so classified as MongoDB unavailable: a 503).
 *
 * Without it nothing of ours bounds a command once written: the driver's `timeoutMS` is a no-op in
 * mongodb 7 (resolveOptions drops it) and socketTimeoutMS is unset, so a server that stops answering (a
 * network partition) holds the request until the driver's monitor gives up on it (70 s in
 * test/accept-path.test.ts); and mongodb 7.9.0 can hand out a connection whose socket the server has just
 * ended (destroyed, its 'close' not yet emitted), write to it, and wait for a 'drain' that never comes
 * (docs/operations.md, "Time limits"). The signal ends each stage: server selection, checkout, the wait for
 * 'drain', the read. The driver types `signal` on reads only, but every operation's options reach the
 * connection, writes included; that test ("MongoDB stops answering") holds it to that. Work of many
 * operations that answers one caller (storing an uploaded statement) shares one `bound`, so one deadline.
 */
export async function withinDeadline<T>(ms: number, operation: (bound: Bound) => Promise<T>, what?: string): Promise<T> {
  const controller = new AbortController();
  const bound: Bound = { signal: controller.signal };
  const reason = `${what ? `${what}: ` : ''}MongoDB did not answer within ${ms} ms`;
  const timer = setTimeout(() => controller.abort(new MongoOperationTimeoutError(reason)), ms);
  try {
    return await operation(bound);
  } finally {
    clearTimeout(timer);
  }
}

/** One accept-path operation within ACCEPT_PATH_TIMEOUT_MS (withinDeadline). */
export const withinAcceptDeadline = <T>(operation: (bound: Bound) => Promise<T>): Promise<T> =>
  withinDeadline(ACCEPT_PATH_TIMEOUT_MS, operation);

/** withinDeadline, its failures classified: MongoDB away or past the deadline is a TransientError (503). */
export async function readWithin<T>(ms: number, operation: (bound: Bound) => Promise<T>): Promise<T> {
  try {
    return await withinDeadline(ms, operation);
  } catch (error) {
    throw classifyMongoError(error);
  }
}

/**
 * Iterates a cursor opened with `bound`, each wait for the server (its first batch, each getMore) within
 * `ms`: a deadline per step, not per cursor, so a long walk (reconciliation's) is bounded where it waits and
 * never cut for being long. The time the caller spends between documents is not counted.
 */
export async function* iterateWithin<T>(ms: number, open: (bound: Bound) => AsyncIterable<T>): AsyncGenerator<T> {
  const controller = new AbortController();
  const iterator = open({ signal: controller.signal })[Symbol.asyncIterator]();
  try {
    for (;;) {
      const timer = setTimeout(() => controller.abort(new MongoOperationTimeoutError(`MongoDB did not answer within ${ms} ms`)), ms);
      let next: IteratorResult<T>;
      try {
        next = await iterator.next();
      } finally {
        clearTimeout(timer);
      }
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}
