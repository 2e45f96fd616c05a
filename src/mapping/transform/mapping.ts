// Small pieces every source mapper uses: strict payload parsing with field-named errors, money parsing
// whose errors name the field, and the date shapes providers send.
import type { z } from 'zod';
import { storableMinor } from '../../domain/money.js';
import type { RawInput } from '../../domain/transaction.js';
import { payloadError } from './payload-error.js';

export function parsePayload<S extends z.ZodType>(schema: S, payload: unknown): z.infer<S> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw payloadError(parsed.error);
  return parsed.data;
}

/**
 * Runs a money parse, reporting a failure against `path` in the payload; an amount (a bigint) must also be
 * one PostgreSQL can store.
 */
export function atField<T>(path: Array<string | number>, parse: () => T): T {
  try {
    const value = parse();
    if (typeof value === 'bigint') storableMinor(value);
    return value;
  } catch (error) {
    throw payloadError(error, path);
  }
}

/** A calendar date ("2026-11-24") as midnight UTC. */
export const dateOnly = (value: string) => new Date(`${value}T00:00:00Z`);

/** Unix seconds, as Stripe sends them. */
export const unixSeconds = (value: number) => new Date(value * 1000);

/** The fields that come from the envelope rather than the payload. */
export const fromEnvelope = (raw: RawInput) => ({
  rawId: raw.rawId,
  tenantId: raw.tenantId,
  source: raw.source,
  externalId: raw.externalId,
  providerRef: null,
  supersedes: null,
  revisionKey: null,
  receivedAt: raw.receivedAt,
});

/** The receipt time in milliseconds: the last element of every revision key, so later arrivals win ties. */
export const receivedMs = (raw: RawInput) => BigInt(raw.receivedAt.getTime());
