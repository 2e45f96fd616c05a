// webhooks.verify: the check every receiver of Prismo's webhooks must make, and most often gets wrong, done once:
// HMAC-SHA256 over `${t}.${rawBody}` compared in constant time, either secret of a rotation, a replay tolerance.
// Self-contained on purpose (node:crypto alone, nothing from the rest of the client): a receiver needs no API key.
import { createHmac, timingSafeEqual } from 'node:crypto';

// ---------------------------------------------------------------------------------------------------------------
// The events, written by hand from the server's contract: the OpenAPI `webhooks` section
// (src/gateway/webhooks-contract.ts, one operation per type of src/domain/events.ts, each `data` one of
// EVENT_DATA_SCHEMAS in src/gateway/routes/events.ts). test/clients/webhooks-verify.test.ts fails at compile
// time if these types and the server's schemas part ways, and at run time if the list of types does.
// ---------------------------------------------------------------------------------------------------------------

/** The transaction as GET /api/v1/transactions/{id} shows it (its `transaction`) when the event was recorded. */
export interface WebhookTransaction {
  id: string;
  source: string;
  externalId: string | null;
  account: string;
  counterparty: { name: string; merchantCategoryCode: string | null } | null;
  direction: 'debit' | 'credit';
  amount: { minor: string; value: string; currency: string };
  status: 'pending' | 'posted' | 'reversed' | 'void';
  description: string | null;
  category: string | null;
  occurredAt: string;
  bookedAt: string | null;
  receivedAt: string;
  createdAt: string;
  metadata: Record<string, unknown>;
  revisions: Array<{
    rawId: string;
    outcome: 'created' | 'updated' | 'unchanged' | 'stale' | 'after-void' | 'superseded' | 'removal' | 'recorded-before';
    changes: Record<string, { from: unknown; to: unknown }>;
    receivedAt: string | null;
    recordedAt: string;
  }>;
}

/** The raw document's processing status then, with its error (transaction.failed, transaction.dead). */
export interface WebhookDocumentStatus {
  id: string;
  source: string;
  externalId: string | null;
  status: 'pending' | 'processed' | 'failed' | 'dead';
  attempts: number;
  lastError: string | null;
  receivedAt: string;
  processedAt: string | null;
}

/** The statement upload as GET /api/v1/statements/{id} shows it, without its entries. */
export interface WebhookStatement {
  id: string;
  status: 'pending' | 'processed' | 'failed';
  version: string;
  receivedAt: string;
  statements: Array<{ id: string; account: string; entries: number }>;
}

/** The endpoint as GET /api/v1/webhook-endpoints lists it, disabled, its URL cut to the origin. */
export interface WebhookDisabledEndpoint {
  id: string;
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
  createdAt: string;
  disabledReason: string | null;
  failingSince: string | null;
  lastError: string | null;
  /** Events posted to it at once: 1 keeps the feed's order, one at a time. */
  maxInFlight: number;
}

/** What each event type carries in `data`. */
export interface WebhookEventData {
  'transaction.processed': WebhookTransaction;
  'transaction.updated': WebhookTransaction;
  'transaction.voided': WebhookTransaction;
  'transaction.failed': WebhookDocumentStatus;
  'transaction.dead': WebhookDocumentStatus;
  'statement.processed': WebhookStatement;
  'webhook_endpoint.disabled': WebhookDisabledEndpoint;
}

export type WebhookEventType = keyof WebhookEventData;

/** The event types Prismo sends, in the order src/domain/events.ts lists them. */
export const WEBHOOK_EVENT_TYPES = [
  'transaction.processed',
  'transaction.updated',
  'transaction.voided',
  'transaction.failed',
  'transaction.dead',
  'statement.processed',
  'webhook_endpoint.disabled',
] as const satisfies readonly WebhookEventType[];

/** One delivered event; narrow it with `switch (event.type)`. */
export type WebhookEvent = {
  [T in WebhookEventType]: {
    /** The same at every delivery of the event: de-duplicate by it (delivery is at least once). */
    id: string;
    type: T;
    /** When it was recorded (ISO 8601). */
    created: string;
    /** What it is about: the raw document, the statement upload or the webhook endpoint. */
    documentId: string;
    data: WebhookEventData[T];
  };
}[WebhookEventType];

// ---------------------------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------------------------

export type WebhookVerificationReason = 'missing-header' | 'malformed-header' | 'timestamp-outside-tolerance' | 'no-matching-signature';

/** Why a delivery was refused; answer it with a 400 and do not act on the body. */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly reason: WebhookVerificationReason,
    message: string,
  ) {
    super(message);
  }
}

export interface VerifyOptions {
  /** How far `t` may be from now, either way, in seconds (a replay older than this is refused). Default 300. */
  toleranceSeconds?: number;
  /** The current time (a Date, or milliseconds since the epoch as Date.now() gives); for tests. */
  now?: Date | number;
}

/** The header's name as Prismo sends it (Node lower-cases incoming header names: `prismo-signature`). */
export const SIGNATURE_HEADER = 'Prismo-Signature';

/** A header longer than this is refused unread: two v1 take 142 characters; this leaves room for more schemes. */
const MAX_HEADER_LENGTH = 1024;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;

interface ParsedHeader {
  timestamp: number;
  signatures: Buffer[];
}

/** `t=<unix seconds>,v1=<hex>[,v1=<hex>]`; other schemes (v0, a future v2) are skipped, not refused. */
function parseHeader(header: string): ParsedHeader {
  const malformed = (why: string) => new WebhookVerificationError('malformed-header', `${SIGNATURE_HEADER} header ${why}`);
  if (header.length > MAX_HEADER_LENGTH) throw malformed(`is longer than ${MAX_HEADER_LENGTH} characters`);
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) throw malformed(`has a part without "=": ${JSON.stringify(part.slice(0, 40))}`);
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) throw malformed('has no single t=<unix seconds>');
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(value)) throw malformed('has a v1 that is not 64 hex digits');
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamp === undefined) throw malformed('has no t=<unix seconds>');
  if (signatures.length === 0) throw malformed('has no v1 signature');
  return { timestamp, signatures };
}

function headerText(signatureHeader: string | readonly string[] | null | undefined): string {
  // A repeated header reaches Node as one value joined by ", "; an array comes from other frameworks.
  const header = Array.isArray(signatureHeader) ? signatureHeader.join(',') : (signatureHeader as string | null | undefined);
  if (header === undefined || header === null || header.trim() === '')
    throw new WebhookVerificationError('missing-header', `no ${SIGNATURE_HEADER} header: not a delivery from Prismo`);
  return header;
}

/** Whether one of the secrets signed `${t}.${rawBody}`; every pair is compared, in constant time. */
function signedByAny(secrets: readonly string[], timestamp: number, rawBody: string | Uint8Array, signatures: Buffer[]): boolean {
  let matched = false;
  for (const secret of secrets) {
    const hmac = createHmac('sha256', secret).update(`${timestamp}.`);
    const expected = (typeof rawBody === 'string' ? hmac.update(rawBody, 'utf8') : hmac.update(rawBody)).digest();
    for (const signature of signatures) {
      // Both are 32 bytes (parseHeader checked the hex's length), as timingSafeEqual requires.
      if (timingSafeEqual(signature, expected)) matched = true;
    }
  }
  return matched;
}

/**
 * Checks a delivery's `Prismo-Signature` against the body exactly as received (the raw bytes or their text, never
 * JSON re-serialised) and returns the event; throws a WebhookVerificationError saying why otherwise. During a
 * secret rotation pass both secrets (the new one and the previous): either verifies. The body is parsed only
 * once a signature has matched and the timestamp is within `toleranceSeconds`.
 */
export function verify(
  rawBody: string | Uint8Array,
  signatureHeader: string | readonly string[] | null | undefined,
  secretOrSecrets: string | readonly string[],
  { toleranceSeconds = 300, now }: VerifyOptions = {},
): WebhookEvent {
  const secrets = typeof secretOrSecrets === 'string' ? [secretOrSecrets] : secretOrSecrets;
  if (secrets.length === 0 || secrets.some((secret) => typeof secret !== 'string' || secret === ''))
    throw new TypeError('webhooks.verify: give the endpoint secret (whsec_…), or the two secrets of a rotation');
  if (!(toleranceSeconds >= 0)) throw new TypeError('webhooks.verify: toleranceSeconds must be a number ≥ 0');
  const { timestamp, signatures } = parseHeader(headerText(signatureHeader));
  if (!signedByAny(secrets, timestamp, rawBody, signatures))
    throw new WebhookVerificationError(
      'no-matching-signature',
      'no v1 signature matches the body with the secret(s) given: a wrong secret, or a body changed or re-serialised',
    );
  const nowSeconds = (now === undefined ? Date.now() : typeof now === 'number' ? now : now.getTime()) / 1000;
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds)
    throw new WebhookVerificationError(
      'timestamp-outside-tolerance',
      `signed at ${timestamp} (Unix seconds), ${Math.round(nowSeconds - timestamp)} s from now: beyond the ${toleranceSeconds} s tolerance (a replay?)`,
    );
  const text = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody);
  return JSON.parse(text) as WebhookEvent;
}

/** `import { webhooks } from '@prismo/client'; webhooks.verify(…)`. */
export const webhooks = { verify, WebhookVerificationError, SIGNATURE_HEADER } as const;
