// The envelope every source wraps its payload in. Only the envelope is ours to shape; the payload is
// stored schema-free, so it is checked only for what would make storing it unsafe.
import { calculateObjectSize } from 'bson';
import { z } from 'zod';
import { sourceSchema, textSchema } from './ids.js';
import { type JsonFinding, type JsonRules, scanJson } from './json-scan.js';

export const MAX_PAYLOAD_DEPTH = 32;

const PAYLOAD_RULES: JsonRules = {
  maxDepth: MAX_PAYLOAD_DEPTH,
  key(key, _value, path) {
    if (key.startsWith('$')) return { path, message: 'keys may not start with "$"' };
    if (key.includes('\0')) return { path, message: 'keys may not contain NUL' };
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return { path, message: `key "${key}" is not allowed` };
    return undefined;
  },
};

/**
 * The storage rule for payloads (docs/api.md): keys may not start with `$` (MongoDB operator syntax),
 * contain NUL, or be `__proto__`, `constructor` or `prototype`; nesting is at most MAX_PAYLOAD_DEPTH.
 * Everything else, dotted keys included, is stored as sent.
 */
export const findUnsafePayloadKey = (payload: unknown): JsonFinding | undefined => scanJson(payload, PAYLOAD_RULES);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Any JSON object, passed on as it came: not `z.record`, which copies the payload key by key (1.6 ms for 4,500
 * keys, on every POST) only for the scan below to walk it again. The scan is the one walk.
 */
const payloadSchema = z
  .custom<Record<string, unknown>>(isPlainObject, { error: (issue) => `Invalid input: expected object, received ${kindOf(issue.input)}` })
  .meta({ type: 'object', additionalProperties: {} })
  .superRefine((payload, ctx) => {
    const unsafe = findUnsafePayloadKey(payload);
    if (unsafe) ctx.addIssue({ code: 'custom', path: unsafe.path, message: unsafe.message });
  });

const kindOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/**
 * The sources a processor has a mapper for (mapping/transform/index.ts is typed by this list, so the two
 * cannot drift). Gateways and processors ship from one image: a release adding a source upgrades the
 * processors first (docs/api.md).
 */
export const SOURCES = ['generic', 'stripe', 'plaid', 'iso20022'] as const;
export type Source = (typeof SOURCES)[number];

/** A source the processors can map: any other is refused at the door (400) rather than dead-lettered later. */
export const knownSourceSchema = sourceSchema.pipe(
  z.enum(SOURCES, { error: (issue) => `unknown source ${JSON.stringify(issue.input)}: must be one of ${SOURCES.join(', ')}` }),
);

export const envelopeSchema = z.strictObject({
  source: knownSourceSchema,
  externalId: textSchema.min(1).max(256).optional(),
  payload: payloadSchema,
});

export type Envelope = z.infer<typeof envelopeSchema>;

/** MongoDB's cap on one document (its maxBsonObjectSize). */
export const MONGODB_MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;
/** What a payload may weigh as stored: MongoDB's cap less room for the raw document's own fields (keys, lease, errors). */
export const MAX_STORED_PAYLOAD_BYTES = MONGODB_MAX_DOCUMENT_BYTES - 64 * 1024;

/** Payloads already measured: the route measures one before its quotas, the raw store again as it builds the document. */
const measured = new WeakMap<object, number>();

/**
 * A payload's size as MongoDB stores it (BSON): what the byte quotas count of a document (docs/api.md). Measured
 * once per payload object (a payload is stored as sent, never changed in place; a corrected one is a new object).
 */
export function storedPayloadBytes(payload: Record<string, unknown>): number {
  const known = measured.get(payload);
  if (known !== undefined) return known;
  const bytes = calculateObjectSize(payload);
  measured.set(payload, bytes);
  return bytes;
}

/**
 * A payload's size as MongoDB stores it (BSON) when that is more than a raw document can hold, else
 * undefined. A JSON body's length does not bound it: BSON names every array element, so `[0,0,…]` grows
 * up to eight times. Such a payload is refused at the door (413); any stored one the processor takes.
 */
export function oversizedPayload(payload: Record<string, unknown>): number | undefined {
  const bytes = storedPayloadBytes(payload);
  return bytes > MAX_STORED_PAYLOAD_BYTES ? bytes : undefined;
}

/** The problem's words for an oversized payload. */
export const oversizedDetail = (bytes: number) =>
  `The payload is ${bytes} bytes as stored (BSON); a document can hold at most ${MAX_STORED_PAYLOAD_BYTES} (MongoDB stores 16 MiB per document).`;

/**
 * Sources whose documents are snapshots of a provider's object, sent again each time the object changes
 * (docs/model.md): for them an externalId names one snapshot, so the same externalId with another payload is
 * a new revision, not a resubmission.
 */
export const REVISED_SOURCES: ReadonlySet<string> = new Set(['stripe', 'plaid', 'iso20022']);

/** What ingestion answers for an accepted envelope. */
export interface Accepted {
  id: string;
  /** True when the tenant had already sent this source's externalId: the id is the first document's. */
  duplicate: boolean;
  /** For a duplicate, the stored document's status now (a fresh document is pending). */
  status?: 'pending' | 'processed' | 'failed' | 'dead';
}
