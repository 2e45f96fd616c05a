// The raw documents this worker has leased and not yet marked: taken by a claim, given up by a mark, and
// handed back at shutdown so that no other worker waits for the lease to expire.
export class Leases {
  readonly #ids = new Set<string>();

  hold(ids: Iterable<string>): void {
    for (const id of ids) this.#ids.add(id);
  }

  release(ids: Iterable<string>): void {
    for (const id of ids) this.#ids.delete(id);
  }

  held(): string[] {
    return [...this.#ids];
  }
}
