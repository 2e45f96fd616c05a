// A deliverer leases the endpoints it will serve next: those with work due, read first, then picked by
// tenant in turn (tenant-slots) and leased, so that one tenant's many due endpoints never crowd out another's.
import type { Database } from '../db/postgres.js';
import { leaseEndpoints } from '../pg-store/lease-endpoints.js';
import { readDueEndpoints } from '../pg-store/read-due-endpoints.js';
import type { LeasedEndpoint } from '../pg-store/rows.js';
import type { TenantSlots } from './tenant-slots.js';

export type Endpoint = LeasedEndpoint;

export interface ClaimOptions {
  db: Database;
  worker: string;
  leaseMs: number;
  timeoutMs: number;
}

/**
 * Leases the endpoints picked from those due, each held in `slots` until released. One another deliverer
 * leased in between is skipped (SKIP LOCKED, and the lease is checked again on the row it locks).
 * `leftBehind`: due endpoints not picked for want of a share, to claim again when a slot frees.
 */
export async function claimDue(options: ClaimOptions, slots: TenantSlots): Promise<{ leased: Endpoint[]; leftBehind: boolean }> {
  const due = await readDueEndpoints(options.db, slots.slots);
  const picked = slots.pick(due);
  if (picked.length === 0) return { leased: [], leftBehind: due.length > 0 };
  const leased = await leaseEndpoints(
    options.db,
    options,
    picked.map((e) => e.id),
  );
  for (const endpoint of leased) slots.hold(endpoint.tenant_id);
  return { leased, leftBehind: due.length > picked.length };
}
