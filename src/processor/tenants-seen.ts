// The tenants the change stream has shown lately, and when: the sweep asks for theirs on their own at once,
// so a tenant whose events stand behind another's backlog in the stream is not left to the oldest-first page.

/** How long a tenant seen on the change stream stays among those the sweep asks for on their own. */
export const SIGHTING_MS = 10_000;

export class TenantsSeen {
  readonly #at = new Map<string, number>();

  /** `forMs`: how long a sighting counts. */
  constructor(
    private readonly forMs = SIGHTING_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The change stream showed a document of this tenant now. */
  see(tenantId: string): void {
    this.#at.set(tenantId, this.now());
  }

  /** The tenants seen within `forMs`; older sightings are forgotten. */
  recent(): string[] {
    const now = this.now();
    for (const [tenant, at] of this.#at) if (now - at >= this.forMs) this.#at.delete(tenant);
    return [...this.#at.keys()];
  }
}
