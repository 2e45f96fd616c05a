// The candidates the pipeline holds (buffered or in a batch): one owner for what the sources, the pipeline
// and the processor's idle check all ask about, so no bare set is changed from several places.
export class InFlight {
  /** Each held id, and the tenant it belongs to ('' when the source did not say). */
  readonly #ids = new Map<string, string>();
  readonly #perTenant = new Map<string, number>();

  /**
   * At most `max` candidates held; more are dropped, not lost: the sweep finds them again. With a `reserve`,
   * the tenants holding candidates share `max - reserve` equally (a lone tenant takes it all), and the
   * reserve is left for a tenant that holds none yet: one tenant's backlog never fills the pipeline, a
   * quiet tenant's fresh document always finds a place, and two backlogs end with half each.
   */
  constructor(
    readonly max: number,
    readonly reserve = 0,
  ) {}

  /** Takes a candidate unless it is held already, the pipeline is full or its tenant holds its most; true when taken. */
  admit(id: string, tenant = ''): boolean {
    if (this.#ids.has(id) || this.roomFor(tenant) <= 0) return false;
    this.#ids.set(id, tenant);
    this.#perTenant.set(tenant, (this.#perTenant.get(tenant) ?? 0) + 1);
    return true;
  }

  /** A batch is over: its ids may be offered again (if still unprocessed, the sweep will). */
  settle(ids: Iterable<string>): void {
    for (const id of ids) {
      const tenant = this.#ids.get(id);
      if (tenant === undefined) continue;
      this.#ids.delete(id);
      const held = this.#perTenant.get(tenant)! - 1;
      if (held === 0) this.#perTenant.delete(tenant);
      else this.#perTenant.set(tenant, held);
    }
  }

  /** How many more candidates can be taken now. */
  room(): number {
    return this.max - this.#ids.size;
  }

  /** How many more candidates of this tenant can be taken now. */
  roomFor(tenant: string): number {
    if (this.reserve === 0) return this.room();
    const held = this.#perTenant.get(tenant) ?? 0;
    const sharing = this.#perTenant.size + (held === 0 ? 1 : 0);
    return Math.min(this.room(), Math.floor((this.max - this.reserve) / sharing) - held);
  }

  isBusy(): boolean {
    return this.#ids.size > 0;
  }
}
