// A deliverer's slots (WEBHOOK_CONCURRENCY endpoints in delivery at once) shared between tenants, so that one
// tenant's slow or stalling receivers hold at most its share and another tenant's events go out at once.

/**
 * A tenant's share of the slots: the slots over the tenants with deliveries due or in flight, plus one (a
 * share kept free for the tenant whose events arrive next, so it never waits for another's attempts to end),
 * and at least one slot.
 */
export const tenantShare = (slots: number, busyTenants: number) => Math.max(1, Math.floor(slots / (busyTenants + 1)));

const REMEMBERED_TENANTS = 10_000;

/** One less for the tenant; a count that reaches zero is forgotten, so the maps hold busy tenants alone. */
function countDown(counts: Map<string, number>, tenantId: string): void {
  const left = (counts.get(tenantId) ?? 0) - 1;
  if (left > 0) counts.set(tenantId, left);
  else counts.delete(tenantId);
}

/** The slots' one owner: what each tenant holds, and which tenant was served longest ago. */
export class TenantSlots {
  readonly #held = new Map<string, number>();
  /** Each tenant's posts in flight beyond the first of each of its endpoints (maxInFlight above 1). */
  readonly #extraPosts = new Map<string, number>();
  /** Each tenant's place in the rotation: the count of leases when it last had one. */
  readonly #servedAt = new Map<string, number>();
  #leases = 0;
  #inUse = 0;

  constructor(readonly slots: number) {}

  get free(): number {
    return this.slots - this.#inUse;
  }

  heldBy(tenantId: string): number {
    return this.#held.get(tenantId) ?? 0;
  }

  /**
   * Which of the due endpoints (each tenant's in the order it should be served) to lease with the free slots:
   * tenants in turn, the one served longest ago first, each up to its share less what it holds. Picking
   * holds nothing: hold() what was leased.
   */
  pick<T extends { tenant_id: string }>(due: readonly T[]): T[] {
    const lines = new Map<string, T[]>();
    for (const endpoint of due) {
      const line = lines.get(endpoint.tenant_id);
      if (line) line.push(endpoint);
      else lines.set(endpoint.tenant_id, [endpoint]);
    }
    // Bounded memory: past this many tenants remembered, those with nothing due or held are forgotten.
    if (this.#servedAt.size > REMEMBERED_TENANTS)
      for (const tenant of this.#servedAt.keys()) if (!lines.has(tenant) && !this.#held.has(tenant)) this.#servedAt.delete(tenant);
    const busy = new Set([...lines.keys(), ...this.#held.keys()]).size;
    const share = tenantShare(this.slots, busy);
    const turns = [...lines.keys()].sort((a, b) => (this.#servedAt.get(a) ?? -1) - (this.#servedAt.get(b) ?? -1));
    const picked: T[] = [];
    const taken = new Map<string, number>();
    let free = this.free;
    for (let round = 0; free > 0 && round < share; round++)
      for (const tenant of turns) {
        const line = lines.get(tenant)!;
        const holds = this.heldBy(tenant) + (taken.get(tenant) ?? 0);
        if (free === 0 || line.length === 0 || holds >= share) continue;
        picked.push(line.shift()!);
        taken.set(tenant, (taken.get(tenant) ?? 0) + 1);
        free--;
      }
    return picked;
  }

  /**
   * One more post at once for an endpoint of this tenant that already has one in flight, if the tenant's such
   * posts stay within its share (the same share as its slots, over the tenants holding slots now): so a tenant's
   * posts in flight are at most twice its share, however many its endpoints' maxInFlight allow. give() it back.
   */
  takeExtraPost(tenantId: string): boolean {
    const extra = this.#extraPosts.get(tenantId) ?? 0;
    if (extra >= tenantShare(this.slots, Math.max(1, this.#held.size))) return false;
    this.#extraPosts.set(tenantId, extra + 1);
    return true;
  }

  giveExtraPost(tenantId: string): void {
    countDown(this.#extraPosts, tenantId);
  }

  hold(tenantId: string): void {
    this.#held.set(tenantId, this.heldBy(tenantId) + 1);
    this.#servedAt.set(tenantId, ++this.#leases);
    this.#inUse++;
  }

  release(tenantId: string): void {
    countDown(this.#held, tenantId);
    this.#inUse--;
  }
}
