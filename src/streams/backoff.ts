// Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries from many
// workers spread out while no retry comes sooner than half its nominal delay.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Source of randomness in [0, 1); tests pass a constant. */
  random?: () => number;
}

/** Delay before retry number `attempt` (1 for the first retry). */
export function backoffDelay(attempt: number, { baseMs, maxMs, random = Math.random }: BackoffOptions): number {
  const nominal = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + (nominal / 2) * random());
}
