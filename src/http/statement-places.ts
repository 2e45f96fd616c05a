// Places for statement uploads in progress (the body being read, waiting for its parse, parsed, stored), taken
// before the body is read: so many per service in all, and at most a share of them per tenant, so no tenant fills them.
import type { ServerResponse } from 'node:http';
import { HttpProblem } from './problem.js';

/** What a refused upload is told to wait: a parse of the largest file takes about this long. */
export const STATEMENT_RETRY_AFTER_S = 2;

/** The 429 of a tenant holding its share of the statement uploads. */
const statementUploadsQuota = (perTenant: number) => (tenantId: string, held: number) =>
  new HttpProblem(
    429,
    'statement-uploads-quota',
    `Tenant ${tenantId} has ${held} statement uploads in progress (being sent, parsed or stored); at most ${perTenant} at once (STATEMENT_PARSE_PER_TENANT). Retry once one is answered.`,
    { headers: { 'Retry-After': String(STATEMENT_RETRY_AFTER_S) } },
  );

/** The places' one owner: how many are held in all, and by each tenant. */
export class StatementPlaces {
  readonly #held = new Map<string, number>();
  #inUse = 0;

  /** `busy` is the 503 to answer when every place is taken; `overShare`, the 429 for a tenant holding its share. */
  constructor(
    readonly places: number,
    readonly perTenant: number,
    private readonly busy: () => HttpProblem,
    private readonly overShare: (tenantId: string, held: number) => HttpProblem = statementUploadsQuota(perTenant),
  ) {}

  get inUse(): number {
    return this.#inUse;
  }

  heldBy(tenantId: string): number {
    return this.#held.get(tenantId) ?? 0;
  }

  /**
   * A place for one upload of the tenant, and the function that gives it back (once, however often called).
   * A tenant holding its share is refused with 429 (its own doing, whatever the others do); a service whose
   * places are all taken, with 503. `weight`: how many places it holds (a body's bytes, where places are bytes).
   */
  take(tenantId: string, weight = 1): () => void {
    const held = this.heldBy(tenantId);
    if (held + weight > this.perTenant) throw this.overShare(tenantId, held);
    if (this.#inUse + weight > this.places) throw this.busy();
    this.#held.set(tenantId, held + weight);
    this.#inUse += weight;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const left = this.heldBy(tenantId) - weight;
      if (left > 0) this.#held.set(tenantId, left);
      else this.#held.delete(tenantId);
      this.#inUse -= weight;
    };
  }

  /** take(), the place given back when `response` closes: answered, or its connection dropped. */
  holdUntilAnswered(tenantId: string, response: ServerResponse, weight = 1): void {
    const give = this.take(tenantId, weight);
    if (response.closed) give();
    else response.once('close', give);
  }
}
