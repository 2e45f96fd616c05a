// Mapper errors name the payload field and the reason, because they end up in the raw document's
// lastError and in processing_logs, where someone has to act on them.
import { ZodError } from 'zod';
import { PermanentError } from '../../domain/errors.js';

export function payloadError(error: unknown, path: Array<string | number> = []): PermanentError {
  if (error instanceof ZodError) {
    const reasons = error.issues.map((issue) => `${['payload', ...path, ...issue.path].join('.')}: ${issue.message}`);
    return new PermanentError('invalid_payload', reasons.join('; '), { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new PermanentError('invalid_payload', `${['payload', ...path].join('.')}: ${message}`, { cause: error });
}
