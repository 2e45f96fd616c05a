// Where the sweep stands: which page of the fair rotation comes next, and, while pages come back full, the
// last document the pass over a backlog offered, so the next page reads after it instead of past them all.

export class SweepCursor {
  #pass: { after: string; since: number } | undefined;
  #page = 0;

  /** `restartAfterMs`: a pass older than this starts again from the oldest (the poll interval). */
  constructor(
    private readonly restartAfterMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The page number the fair rotation starts from; each call moves it on by one. */
  nextPage(): number {
    return this.#page++;
  }

  /** The id the next page reads after, or undefined to start from the oldest. */
  after(): string | undefined {
    if (this.#pass && this.now() - this.#pass.since >= this.restartAfterMs) this.#pass = undefined;
    return this.#pass?.after;
  }

  /**
   * A full page continues the pass after the last document it offered (those before are in the pipeline, or
   * processed, or left for the next pass); a short one ends it.
   */
  advance(full: boolean, through: string | undefined): void {
    this.#pass = full && through !== undefined ? { after: through, since: this.#pass?.since ?? this.now() } : undefined;
  }
}

/**
 * The tenants known to have documents waiting, asked of the store at most every `everyMs` (a distinct at the
 * head of a page); on failure the last list serves, and the page's own query reports the outage.
 */
export class WaitingTenants {
  #list: string[] = [];
  #at = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly find: () => Promise<string[]>,
    private readonly everyMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async list(): Promise<string[]> {
    if (this.now() - this.#at >= this.everyMs) {
      this.#at = this.now();
      this.#list = await this.find().catch(() => this.#list);
    }
    return this.#list;
  }
}
