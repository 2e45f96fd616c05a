// Adapters classify failures at the boundary so the core can decide without knowing any driver:
// a TransientError is retried, a PermanentError fails the one document it concerns.

export class TransientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransientError';
  }
}

export class PermanentError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

/**
 * A document larger than MongoDB can store (16 MiB of BSON): the client's to fix, never retried. The HTTP
 * edge answers it 413 `/problems/document-too-large` with the message as the detail.
 */
export class DocumentTooLargeError extends PermanentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('document_too_large', message, options);
    this.name = 'DocumentTooLargeError';
  }
}

/**
 * A TransientError that says the dependency itself is away: down, unreachable, refusing connections, not
 * answering within its deadline. Nothing about the documents in hand, so the processor retries the stage
 * without charging them an attempt; any other failure of a write is charged to the documents it concerns.
 */
export class UnavailableError extends TransientError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'UnavailableError';
  }
}

export const isTransient = (error: unknown): error is TransientError => error instanceof TransientError;
export const isUnavailable = (error: unknown): error is UnavailableError => error instanceof UnavailableError;
export const isPermanent = (error: unknown): error is PermanentError => error instanceof PermanentError;
export const isDocumentTooLarge = (error: unknown): error is DocumentTooLargeError => error instanceof DocumentTooLargeError;

/**
 * Why a change stream failed, as the adapter that opened it classifies the driver's error: its resume token
 * can no longer be used, the server has no change streams, the network failed, or something else.
 */
export type StreamFailure = 'token-unusable' | 'unsupported' | 'network' | 'other';
