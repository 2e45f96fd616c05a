// Slots for work that takes turns on the event loop (JSON bodies parsed in slices): at most `concurrency` run at
// once, and the waiting ones are taken tenant by tenant in turn, each tenant's in the order they came. One
// tenant's queue of bodies is no longer everyone's wait: another tenant's body runs after at most one of its.

export class FairSlots {
  #running = 0;
  #waiting = 0;
  /** Each waiting tenant's queue; the Map's order is the order of turns (a tenant served goes to the back). */
  readonly #queues = new Map<string, Array<() => void>>();

  constructor(readonly concurrency: number) {}

  /** Tasks waiting for a slot, every tenant's. */
  get pendingCount(): number {
    return this.#waiting;
  }

  /** Runs `task` in a slot of `tenant`'s turn (one key for work without a tenant). */
  async run<T>(tenant: string, task: () => Promise<T>): Promise<T> {
    if (this.#running < this.concurrency && this.#waiting === 0) this.#running++;
    else await new Promise<void>((resolve) => this.#enqueue(tenant, resolve));
    try {
      return await task();
    } finally {
      this.#handOver();
    }
  }

  #enqueue(tenant: string, start: () => void): void {
    const queue = this.#queues.get(tenant);
    if (queue) queue.push(start);
    else this.#queues.set(tenant, [start]);
    this.#waiting++;
  }

  /** The slot just freed goes to the next tenant in turn (it stays counted as running), or is given back. */
  #handOver(): void {
    const next = this.#queues.entries().next();
    if (next.done) {
      this.#running--;
      return;
    }
    const [tenant, queue] = next.value;
    const start = queue.shift()!;
    this.#queues.delete(tenant);
    if (queue.length > 0) this.#queues.set(tenant, queue);
    this.#waiting--;
    start();
  }
}
