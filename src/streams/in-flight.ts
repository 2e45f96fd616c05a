// The candidates the pipeline holds (buffered or in a batch): one owner for what the sources, the pipeline
// and the processor's idle check all ask about, so no bare set is changed from several places.
export class InFlight {
  /** Each held id, and the tenant it belongs to ('' when the source did not say). */
  readonly #ids = new Map<string, string>();
  readonly #perTenant = new Map<string, number>();

  /**
   * At most `max` candidates held, and at most `tenantMax` of one tenant; more are dropped, not lost: the
   * sweep finds them again. The room a tenant cannot take is kept for the others, so one tenant's backlog
   * never fills the pipeline and a quiet tenant's fresh document finds a place.
   */
  constructor(
    readonly max: number,
    readonly tenantMax = max,
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
    return Math.min(this.room(), this.tenantMax - (this.#perTenant.get(tenant) ?? 0));
  }

  isBusy(): boolean {
    return this.#ids.size > 0;
  }
}
