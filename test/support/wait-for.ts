// Waiting for a condition with a deadline, never for luck. Kept apart from databases.ts (which reads
// vitest's provided context) so the benchmarks can use it too.

/** Polls `probe` until it returns a truthy value or the deadline passes; the error names `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T> | T,
  { timeoutMs = 30_000, intervalMs = 25 } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
