// An envelope checked outside Fastify's body validation (a batch item, an operator's corrected payload): its
// schema, then money no mapper could hold, as a validation problem whose paths start at `at`.
import { type Envelope, envelopeSchema } from '../domain/envelope.js';
import { refuseMoney } from '../domain/refusals.js';
import { problemOfZodError, type ValidationProblem, validationProblem } from './problem.js';

export function checkEnvelope(value: unknown, at: string): { envelope: Envelope } | { problem: ValidationProblem } {
  const result = envelopeSchema.safeParse(value);
  if (!result.success) return { problem: problemOfZodError(result.error, at) };
  const money = refuseMoney(result.data);
  if (!money) return { envelope: result.data };
  return { problem: validationProblem([{ ...money, path: [at, money.path].filter(Boolean).join('.') }]) };
}
