// The sweep's queries: the oldest claimable documents, ids only; overall, or tenant by tenant in turn.
import { type Collection, type Filter, ObjectId } from 'mongodb';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';
import { claimableFilter } from './states.js';

/**
 * A processor's own documents when it shares the slots with others (undefined: alone, every document); a
 * document of an earlier release, without a slot, is slot 0's.
 */
export function slotFilter(slots: readonly number[] | undefined): Filter<RawTransaction> {
  if (slots === undefined) return {};
  return { slot: { $in: slots.includes(0) ? [...slots, null] : [...slots] } } as Filter<RawTransaction>;
}

/** Documents after this id only: where a pass over a backlog stands (undefined: from the oldest). */
const afterFilter = (after: string | undefined): Filter<RawTransaction> =>
  after === undefined ? {} : { _id: { $gt: new ObjectId(after) } };

export async function findWaitingIds(
  raw: Collection<RawTransaction>,
  limit: number,
  { now = new Date(), slots, after }: { now?: Date; slots?: readonly number[]; after?: string } = {},
): Promise<string[]> {
  try {
    const docs = await raw
      .find({ ...claimableFilter(now), ...slotFilter(slots), ...afterFilter(after) }, { projection: { _id: 1 }, sort: { _id: 1 }, limit })
      .toArray();
    return docs.map((doc) => doc._id.toHexString());
  } catch (error) {
    throw classifyMongoError(error);
  }
}

/**
 * The tenants with documents not processed (dead ones included: the filter is the index's partial filter, so
 * mongod answers with a distinct scan of `waiting_by_tenant`'s first key, reading no document).
 */
export async function findWaitingTenants(raw: Collection<RawTransaction>): Promise<string[]> {
  try {
    return (await raw.distinct('tenantId', { processed: false })).filter((tenant): tenant is string => typeof tenant === 'string');
  } catch (error) {
    throw classifyMongoError(error);
  }
}

/** At most this many tenants' own queries in one page; the next page starts where this one stopped. */
export const TENANTS_PER_PAGE = 32;

export interface FairPageOptions {
  limit: number;
  /** Tenants known to have documents waiting (a distinct, the change stream's recent tenants), stable order. */
  tenants: readonly string[];
  /** Rotates through `tenants` page by page. */
  start: number;
  /** How many more of this tenant's documents the pipeline can take now. */
  roomFor(tenant: string): number;
  /** This processor's slots when it shares them (slotFilter). */
  slots?: readonly number[];
  /** The oldest documents after this id only (the pass over a backlog continues); tenants' own queries from their oldest. */
  after?: string;
  now?: Date;
}

/**
 * One page of the sweep that reaches every tenant: first the oldest claimable documents overall (index
 * `waiting_by_id`, as the plain sweep), each tenant's kept up to the room the pipeline has for it; then, for
 * the known tenants that page did not reach (up to TENANTS_PER_PAGE, from a rotating start), each one's own
 * oldest (index `waiting_by_tenant`: equality on tenantId, then `_id` order, a walk of its own backlog that
 * stops at its share). A lone tenant costs one query, as before; a quiet tenant behind another's backlog of a
 * million is found by its own query. `full` says that more may wait.
 */
export async function findWaitingFair(
  raw: Collection<RawTransaction>,
  { limit, tenants, start, roomFor, slots, after, now = new Date() }: FairPageOptions,
): Promise<{ found: Array<{ id: string; tenantId: string }>; full: boolean; through?: string }> {
  const waiting = { ...claimableFilter(now), ...slotFilter(slots) };
  try {
    const oldest = await raw
      .find({ ...waiting, ...afterFilter(after) }, { projection: { _id: 1, tenantId: 1 }, sort: { _id: 1 }, limit })
      .toArray();
    const kept = new Map<string, number>();
    const found: Array<{ id: string; tenantId: string }> = [];
    // The oldest documents up to the first one left out for want of room: a pass may continue after it.
    let through = after;
    let leftOut = false;
    for (const doc of oldest) {
      const taken = kept.get(doc.tenantId) ?? 0;
      kept.set(doc.tenantId, taken + 1);
      const keep = taken < roomFor(doc.tenantId);
      if (keep) found.push({ id: doc._id.toHexString(), tenantId: doc.tenantId });
      leftOut ||= !keep;
      if (!leftOut) through = doc._id.toHexString();
    }
    // A short answer reached the end of the backlog: the next pass starts from the oldest.
    if (oldest.length < limit) through = undefined;
    const first = tenants.length === 0 ? 0 : start % tenants.length;
    const unreached = [...tenants.slice(first), ...tenants.slice(0, first)].filter((tenant) => !kept.has(tenant));
    const asked = unreached.slice(0, TENANTS_PER_PAGE);
    const share = Math.max(1, Math.ceil(limit / (kept.size + asked.length)));
    const shares = asked.map((tenant) => Math.min(roomFor(tenant), share));
    const pages = await Promise.all(
      asked.map(async (tenantId, i) => {
        if (shares[i]! <= 0) return [];
        const docs = await raw.find({ ...waiting, tenantId }, { projection: { _id: 1 }, sort: { _id: 1 }, limit: shares[i]! }).toArray();
        return docs.map((doc) => ({ id: doc._id.toHexString(), tenantId }));
      }),
    );
    const full =
      oldest.length >= limit || unreached.length > asked.length || pages.some((page, i) => page.length >= shares[i]! && shares[i]! > 0);
    return { found: [...found, ...pages.flat()], full, ...(through === undefined ? {} : { through }) };
  } catch (error) {
    throw classifyMongoError(error);
  }
}
