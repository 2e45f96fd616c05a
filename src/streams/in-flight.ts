// The candidates the pipeline holds (buffered or in a batch): one owner for what the sources, the pipeline
// and the processor's idle check all ask about, so no bare set is changed from several places.
export class InFlight {
  readonly #ids = new Set<string>();

  /** At most this many candidates held; more are dropped, not lost: the sweep finds them again. */
  constructor(readonly max: number) {}

  /** Takes a candidate unless it is held already or the pipeline is full; true when taken. */
  admit(id: string): boolean {
    if (this.#ids.has(id) || this.#ids.size >= this.max) return false;
    this.#ids.add(id);
    return true;
  }

  /** A batch is over: its ids may be offered again (if still unprocessed, the sweep will). */
  settle(ids: Iterable<string>): void {
    for (const id of ids) this.#ids.delete(id);
  }

  /** How many more candidates can be taken now. */
  room(): number {
    return this.max - this.#ids.size;
  }

  isBusy(): boolean {
    return this.#ids.size > 0;
  }
}
