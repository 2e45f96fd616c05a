// A chore a process repeats on a timer (recording failure events, deleting old events or deliveries): never two runs at
// once, and stop() waits for the one running.
export function runEvery(ms: number, chore: () => Promise<unknown>): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const timer = setInterval(() => {
    running ??= chore().finally(() => {
      running = undefined;
    });
  }, ms);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
