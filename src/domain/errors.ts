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

export const isTransient = (error: unknown): error is TransientError => error instanceof TransientError;
export const isPermanent = (error: unknown): error is PermanentError => error instanceof PermanentError;

/**
 * Why a change stream failed, as the adapter that opened it classifies the driver's error: its resume token
 * can no longer be used, the server has no change streams, the network failed, or something else.
 */
export type StreamFailure = 'token-unusable' | 'unsupported' | 'network' | 'other';
