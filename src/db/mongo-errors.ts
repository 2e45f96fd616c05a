// MongoDB failures classified at the adapter boundary, for ingestion and the processor alike.
import { MongoError, MongoInvalidArgumentError, MongoServerError, type WriteError } from 'mongodb';
import { DocumentTooLargeError, PermanentError, type StreamFailure, TransientError } from '../domain/errors.js';

/** The server's code for a unique index refusing a second document with the same key. */
export const DUPLICATE_KEY = 11000;

/** One document of a bulk write refused by the server, as an error of its own (the others were stored). */
export class RefusedWrite extends Error {
  readonly code: number;
  constructor(readonly writeError: Pick<WriteError, 'index' | 'code' | 'errmsg'>) {
    super(writeError.errmsg ?? `write error ${writeError.code}`);
    this.name = 'RefusedWrite';
    this.code = writeError.code;
  }
}

/** A write refused by a unique index: a whole operation's, or one document's of a bulk. */
export const isDuplicateKey = (error: unknown) =>
  (error instanceof MongoServerError || error instanceof RefusedWrite) && error.code === DUPLICATE_KEY;

/** Server error codes a retry can outlive: failover, shutdown, network trouble, time limits. */
const TRANSIENT_SERVER_CODES = new Set([6, 7, 50, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

/** BSONObjectTooLarge, and an update whose resulting document would pass 16 MiB (older servers' codes). */
const TOO_LARGE_SERVER_CODES = new Set([10334, 17419, 17420]);
/** The driver's words when it refuses a document over the server's maxBsonObjectSize before sending it. */
const DRIVER_TOO_LARGE = /larger than the maximum size|exceeds the max bson object size/i;

/**
 * The driver measures a bulk write's documents by serializing each into bson's 17 MiB buffer, so one larger
 * than that fails there, before the driver's own size check: a RangeError from bson's serializer, not a
 * MongoError (seen with a 21.6 MiB entry: "The value of "offset" is out of range").
 */
const bsonOverflow = (error: unknown) =>
  error instanceof RangeError &&
  (error as RangeError & { code?: unknown }).code === 'ERR_OUT_OF_RANGE' &&
  /\bserializeInto\b/.test(error.stack ?? '');

/**
 * A document MongoDB cannot hold (over 16 MiB of BSON), refused by the driver before it is sent (insertMany
 * checks each document's size) or by the server: the sender's to fix, so never retried.
 */
function tooLarge(error: unknown): DocumentTooLargeError | undefined {
  const driverRefused = (error instanceof MongoInvalidArgumentError && DRIVER_TOO_LARGE.test(error.message)) || bsonOverflow(error);
  const serverRefused =
    (error instanceof MongoServerError || error instanceof RefusedWrite) && TOO_LARGE_SERVER_CODES.has(Number(error.code));
  if (!driverRefused && !serverRefused) return undefined;
  return new DocumentTooLargeError(`MongoDB cannot store a document this large: ${(error as Error).message}`, { cause: error });
}

/**
 * MongoDB errors, classified at the boundary. A server's refusal of the operation (a duplicate key, a
 * validation failure) is permanent, and so is a document too large to store, whoever says so; everything
 * between us and a verdict (network, pool, topology, server selection, failover, shutdown, an error without
 * a code) is transient and retried.
 */
export function classifyMongoError(error: unknown): Error {
  const oversized = tooLarge(error);
  if (oversized) return oversized;
  // One document refused within a bulk write carries no labels, only the server's code.
  if (error instanceof MongoServerError || error instanceof RefusedWrite) {
    const retryable =
      error instanceof MongoServerError && (error.hasErrorLabel('RetryableWriteError') || error.hasErrorLabel('TransientTransactionError'));
    // A bulk write cut by the network carries the socket's code (EPIPE, ECONNRESET): no server's verdict.
    const networkCode = typeof error.code === 'string' && /^E[A-Z]+$/.test(error.code);
    if (retryable || error.code === undefined || networkCode || TRANSIENT_SERVER_CODES.has(Number(error.code))) {
      return new TransientError('mongo_retryable', 'MongoDB could not complete the operation now', { cause: error });
    }
    return new PermanentError('mongo_rejected', 'MongoDB rejected the document', { cause: error });
  }
  if (error instanceof MongoError) return new TransientError('mongo_unavailable', 'MongoDB is unavailable', { cause: error });
  // The driver can surface the socket's own error (EPIPE on a connection the server or a proxy ended,
  // ECONNRESET, ...) unwrapped: a network failure between us and a verdict, so transient too.
  if (isSystemError(error)) return new TransientError('mongo_network', `MongoDB connection failed (${error.code})`, { cause: error });
  return error instanceof Error ? error : new Error(String(error));
}

function isSystemError(error: unknown): error is Error & { code: string } {
  const code = error instanceof Error ? (error as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** ChangeStreamHistoryLost (286), InvalidResumeToken (260), ChangeStreamFatalError (280). */
const TOKEN_UNUSABLE_CODES = new Set([286, 260, 280]);
/** "$changeStream is only supported on replica sets". */
const CHANGE_STREAMS_UNSUPPORTED = 40573;

/** A change stream's failure, classified for the pipeline's change-stream source. */
export function classifyChangeStreamError(error: unknown): StreamFailure {
  const code = Number((error as { code?: unknown })?.code);
  if (TOKEN_UNUSABLE_CODES.has(code)) return 'token-unusable';
  // Servers that lack the stage say so only in words.
  if (
    code === CHANGE_STREAMS_UNSUPPORTED ||
    /only supported on replica sets|Unrecognized pipeline stage name: '\$changeStream'/i.test(String((error as Error)?.message))
  )
    return 'unsupported';
  if (['MongoNetworkError', 'MongoNetworkTimeoutError', 'MongoServerSelectionError'].includes((error as Error)?.name)) return 'network';
  return 'other';
}
