// How many ids the next batch should take so that its documents fit BATCH_MAX_BYTES, learnt from the
// documents claims read: BATCH_MAX_BYTES over the mean size of the last claim's documents, between 1 and
// BATCH_MAX_SIZE. The claim's own budget stays the guarantee (it gives back what would pass it); this
// keeps it from being the common path when documents are large, where each batch would lease hundreds of
// ids only to give most of them back.
export class BatchSizer {
  #limit: number;

  constructor(
    private readonly maxSize: number,
    private readonly maxBytes: number,
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
