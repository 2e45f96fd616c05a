// The identifier rules every service shares: what a tenant, a source and a transaction id look like.
import { z } from 'zod';

/** A tenant id: 1-64 of A-Z a-z 0-9 _ -. The same rule for API keys, the CLI and internal routes. */
export const TENANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const tenantIdSchema = z.string().regex(TENANT_ID_PATTERN, 'must be 1-64 of A-Z a-z 0-9 _ -');
export const isTenantId = (value: string) => TENANT_ID_PATTERN.test(value);

/** A transaction id as clients see it: the raw document's MongoDB ObjectId in hex. */
export const TRANSACTION_ID_PATTERN = /^[0-9a-f]{24}$/;
export const transactionIdSchema = z.string().regex(TRANSACTION_ID_PATTERN, 'must be a transaction id');

/** A source name: lower-case, the key that chooses a mapper. */
export const sourceSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'must be lower-case letters, digits, "_", "." or "-"');

/** Text PostgreSQL can hold: anything but NUL. Also what the OpenAPI document declares for such fields. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing the control character NUL is the point.
export const textSchema = z.string().regex(/^[^\u0000]*$/, 'must not contain NUL characters');
