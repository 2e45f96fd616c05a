// BATCH_MAX_BYTES in one place: each claim's cap, and how many ids the next batch takes (the budget over the
// last claim's mean document size, 1 to BATCH_MAX_SIZE) so that with large documents the cap is rarely hit.
export class BatchSizer {
  #limit: number;

  constructor(
    private readonly maxSize: number,
    /** The most raw-document bytes one batch's claim holds. */
    readonly maxBytes: number,
  ) {
    this.#limit = maxSize;
  }

  limit(): number {
    return this.#limit;
  }

  /** The BSON sizes of the documents one claim read; an empty claim teaches nothing. */
  observe(sizes: readonly number[]): void {
    if (sizes.length === 0) return;
    const mean = sizes.reduce((sum, size) => sum + size, 0) / sizes.length;
    this.#limit = Math.max(1, Math.min(this.maxSize, Math.floor(this.maxBytes / mean)));
  }
}
