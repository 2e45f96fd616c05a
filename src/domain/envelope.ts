// The envelope every source wraps its payload in. Only the envelope is ours to shape; the payload is
// stored schema-free, so it is checked only for what would make storing it unsafe.
import { z } from 'zod';
import { sourceSchema, textSchema } from './ids.js';

export const MAX_PAYLOAD_DEPTH = 32;

/**
 * The storage rule for payloads (docs/api.md): keys may not start with `$` (MongoDB operator syntax),
 * contain NUL, or be `__proto__`, `constructor` or `prototype`; nesting is at most MAX_PAYLOAD_DEPTH.
 * Everything else, dotted keys included, is stored as sent.
 */
export function findUnsafePayloadKey(
  value: unknown,
  path: Array<string | number> = [],
  depth = 0,
): { path: Array<string | number>; message: string } | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_PAYLOAD_DEPTH) return { path, message: `nesting deeper than ${MAX_PAYLOAD_DEPTH} levels` };
  const entries: Array<[string | number, unknown]> = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  for (const [key, child] of entries) {
    if (typeof key === 'string') {
      if (key.startsWith('$')) return { path: [...path, key], message: 'keys may not start with "$"' };
      if (key.includes('\0')) return { path: [...path, key], message: 'keys may not contain NUL' };
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') {
        return { path: [...path, key], message: `key "${key}" is not allowed` };
      }
    }
    const found = findUnsafePayloadKey(child, [...path, key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

const payloadSchema = z.record(z.string(), z.unknown()).superRefine((payload, ctx) => {
  const unsafe = findUnsafePayloadKey(payload);
  if (unsafe) ctx.addIssue({ code: 'custom', path: unsafe.path, message: unsafe.message });
});

export const envelopeSchema = z.strictObject({
  source: sourceSchema,
  externalId: textSchema.min(1).max(256).optional(),
  payload: payloadSchema,
});

export type Envelope = z.infer<typeof envelopeSchema>;

/** What ingestion answers for an accepted envelope. */
export interface Accepted {
  id: string;
  /** True when the tenant had already sent this source's externalId: the id is the first document's. */
  duplicate: boolean;
}
