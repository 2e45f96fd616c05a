// What the gateway refuses at the door because it could never be processed (unsafe keys, NUL characters,
// money no mapper could hold), each refusal naming the offending path; nothing refused is stored.
import type { Envelope } from './envelope.js';
import { type JsonPath, type JsonRules, scanJson } from './json-scan.js';
import { currencyExponent, MoneyError, parseMajorAmount, parseMinorAmount } from './money.js';

export interface Refusal {
  /** Dotted path from the body's root: `payload.metadata.note`, `items.3.payload.currency`. */
  path: string;
  message: string;
}

/** Deeper than this, a JSON body is refused before anything else reads it. */
export const MAX_JSON_DEPTH = 64;

/**
 * A UTF-16 surrogate without its pair (`"\ud800"` is valid JSON, but no Unicode text): MongoDB would store it as
 * U+FFFD, not as sent, and RFC 8785 (the Idempotency-Key's canonical JSON) has no form for it. In `u` mode a
 * pair is one code point, so only a lone half matches.
 */
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;
const LONE_SURROGATE_MESSAGE = 'must not contain a lone UTF-16 surrogate (\\ud800–\\udfff without its pair): it is not Unicode text';

/** The door's rule (docs/api.md, "Refused at the door"). */
const DOOR_RULES: JsonRules = {
  maxDepth: MAX_JSON_DEPTH,
  key(key, value, path) {
    if (key.includes('\u0000')) {
      return { path: [...path.slice(0, -1), key.replaceAll('\u0000', '\\u0000')], message: 'keys must not contain NUL characters' };
    }
    if (LONE_SURROGATE.test(key)) {
      const named = key.replace(LONE_SURROGATES, (half) => `\\u${half.charCodeAt(0).toString(16)}`);
      return { path: [...path.slice(0, -1), named], message: `keys ${LONE_SURROGATE_MESSAGE}` };
    }
    if (key === '__proto__') return { path, message: 'the key "__proto__" is not allowed' };
    if (key === 'constructor' && value !== null && typeof value === 'object' && Object.hasOwn(value, 'prototype')) {
      return { path: [...path, 'prototype'], message: 'the key path "constructor.prototype" is not allowed' };
    }
    return undefined;
  },
  string: (value) =>
    value.includes('\u0000') ? 'must not contain NUL characters' : LONE_SURROGATE.test(value) ? LONE_SURROGATE_MESSAGE : undefined,
};

/**
 * The first unsafe thing in a parsed JSON value: a `__proto__` key, a `constructor.prototype` pair, NUL in
 * a key or a string, or nesting deeper than MAX_JSON_DEPTH.
 */
export function findUnsafeJson(root: unknown, prefix: JsonPath = []): Refusal | undefined {
  const found = scanJson(root, DOOR_RULES, prefix);
  return found && { path: found.path.join('.'), message: found.message };
}

/** The first NUL in query parameters or path parameters (PostgreSQL's protocol cannot carry it). */
export function findNulInParameters(parameters: Record<string, unknown> | undefined, where: string): Refusal | undefined {
  for (const [name, value] of Object.entries(parameters ?? {})) {
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => typeof v === 'string' && v.includes('\u0000')))
      return { path: `${where}.${name}`, message: 'must not contain NUL characters' };
  }
  return undefined;
}

const moneyMessage = (error: unknown) => (error instanceof MoneyError ? error.message : String(error));

/** Where each known source keeps its currency and amounts; other sources are checked by their mapper only. */
const MONEY_FIELDS: Record<string, { currency: string; upperCase?: boolean; major?: string; minor?: string }> = {
  generic: { currency: 'currency', major: 'amount', minor: 'amountMinor' },
  stripe: { currency: 'currency', upperCase: true },
  plaid: { currency: 'iso_currency_code' },
};

/**
 * Money no mapper could ever hold: a currency that is not ISO 4217 money (unknown, or XXX / XTS), an
 * amount string outside the one decimal grammar (`-?digits[.digits]`: no spaces, no `+`), a JSON number
 * beyond 2^53. Shapes the mapper would refuse for other reasons are left to it.
 */
export function refuseMoney(envelope: Envelope): Refusal | undefined {
  const fields = MONEY_FIELDS[envelope.source];
  if (!fields) return undefined;
  const payload = envelope.payload;
  const raw = payload[fields.currency];
  if (typeof raw !== 'string') return undefined;
  const currency = fields.upperCase ? raw.toUpperCase() : raw;
  try {
    currencyExponent(currency);
  } catch (error) {
    return { path: `payload.${fields.currency}`, message: moneyMessage(error) };
  }
  for (const [field, parse] of [
    [fields.major, (value: string | number) => parseMajorAmount(value, currency)],
    [fields.minor, parseMinorAmount],
  ] as const) {
    if (!field) continue;
    const value = payload[field];
    if (typeof value !== 'string' && typeof value !== 'number') continue;
    try {
      parse(value);
    } catch (error) {
      return { path: `payload.${field}`, message: moneyMessage(error) };
    }
  }
  return undefined;
}
