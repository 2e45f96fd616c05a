// The candidates waiting for a batch, one line per tenant, served in turn: a tenant with ten waiting
// documents is served in the next batch whatever another tenant's backlog.

/** What group commit needs of its queue: add at the back, take a batch, and how old the oldest is. */
export interface BatchQueue<T> {
  push(item: T, at: number): void;
  readonly length: number;
  /** When the oldest waiting item arrived; undefined when empty. */
  oldestAt(): number | undefined;
  take(count: number): T[];
  /**
   * Up to `count` items of tenants with at most `count` waiting, other than the one whose turn it is, for an
   * express batch beside the busy slots; none when there are none.
   */
  takeExpress?(count: number): T[];
}

/** The most items a tenant may have waiting and still share a batch with others: a tenth of the batch. */
export const smallLine = (batchSize: number) => Math.max(1, Math.floor(batchSize / 10));

/** First come, first served. */
export class FifoQueue<T> implements BatchQueue<T> {
  readonly #items: Array<{ item: T; at: number }> = [];
  push(item: T, at: number): void {
    this.#items.push({ item, at });
  }
  get length(): number {
    return this.#items.length;
  }
  oldestAt(): number | undefined {
    return this.#items[0]?.at;
  }
  take(count: number): T[] {
    return this.#items.splice(0, count).map((entry) => entry.item);
  }
}

/**
 * Batches for tenants in turn (keys, weighted): each batch starts with the next tenant in rotation. A tenant
 * with more than a tenth of a batch waiting gets a batch of its own (up to a whole one); one with less shares
 * its batch with the next tenants that also have that little waiting, never with a larger line. So a quiet
 * tenant's few documents ride a small batch, quick to commit, within a turn or two of any other tenant's
 * backlog (never a batch of hundreds of another tenant's), and a lone tenant's batches are as full as first
 * come, first served would make them. A tenant of weight w takes w turns in a row. Within a tenant, first
 * come, first served; tenants leave the queue when empty, so a take costs in the tenants waiting, not in
 * those ever seen.
 */
export class FairQueue<T> implements BatchQueue<T> {
  readonly #lines = new Map<string, Array<{ item: T; at: number }>>();
  #length = 0;
  /** Whose turn it is, how many turns in a row it has had, and where it stood if it has left the queue. */
  #turn: { key: string | undefined; taken: number; vacated: number } = { key: undefined, taken: 0, vacated: 0 };

  constructor(
    private readonly keyOf: (item: T) => string,
    private readonly weightOf: (key: string) => number = () => 1,
  ) {}

  push(item: T, at: number): void {
    const key = this.keyOf(item);
    const line = this.#lines.get(key);
    if (line) line.push({ item, at });
    else this.#lines.set(key, [{ item, at }]);
    this.#length++;
  }

  get length(): number {
    return this.#length;
  }

  oldestAt(): number | undefined {
    let oldest: number | undefined;
    for (const line of this.#lines.values()) if (oldest === undefined || line[0]!.at < oldest) oldest = line[0]!.at;
    return oldest;
  }

  take(count: number): T[] {
    const keys = [...this.#lines.keys()];
    if (keys.length === 0 || count <= 0) return [];
    const first = this.#next(keys);
    const order = [...keys.slice(first), ...keys.slice(0, first)];
    const small = smallLine(count);
    const taken: T[] = [];
    for (const [i, key] of order.entries()) {
      const line = this.#lines.get(key)!;
      // A small batch stays small: only small lines share one, the first tenant's and the others'.
      if (line.length > small && i > 0) continue;
      this.#shift(key, line, count - taken.length, taken);
      if (taken.length >= count || (i === 0 && taken.length > small)) break;
    }
    return taken;
  }

  takeExpress(count: number): T[] {
    const taken: T[] = [];
    for (const [key, line] of this.#lines) {
      // Not the tenant whose turn it is (its batch is running), not a line longer than the batch.
      if (line.length > count || key === this.#turn.key) continue;
      this.#shift(key, line, count - taken.length, taken);
      if (taken.length >= count) break;
    }
    return taken;
  }

  /** The index in `keys` of the tenant whose turn it is: the same one up to its weight, then the next. */
  #next(keys: string[]): number {
    const current = this.#turn.key === undefined ? -1 : keys.indexOf(this.#turn.key);
    if (current >= 0 && this.#turn.taken < this.weightOf(this.#turn.key!)) {
      this.#turn.taken++;
      return current;
    }
    // The tenant after the current one; if that one has left the queue, the one now where it stood.
    const index = (current >= 0 ? current + 1 : this.#turn.vacated) % keys.length;
    this.#turn = { key: keys[index], taken: 1, vacated: 0 };
    return index;
  }

  #shift(key: string, line: Array<{ item: T; at: number }>, count: number, into: T[]): void {
    const share = Math.min(line.length, count);
    for (const { item } of line.splice(0, share)) into.push(item);
    this.#length -= share;
    if (line.length > 0) return;
    if (key === this.#turn.key) this.#turn.vacated = [...this.#lines.keys()].indexOf(key);
    this.#lines.delete(key);
  }
}
