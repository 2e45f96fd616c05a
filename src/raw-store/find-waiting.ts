// The sweep's queries: the oldest claimable documents, ids only; overall, or tenant by tenant in turn.
import type { Collection } from 'mongodb';
import { classifyMongoError } from '../db/mongo-errors.js';
import type { RawTransaction } from './collections.js';
import { claimableFilter } from './states.js';

export async function findWaitingIds(raw: Collection<RawTransaction>, limit: number, now = new Date()): Promise<string[]> {
  try {
    const docs = await raw.find(claimableFilter(now), { projection: { _id: 1 }, sort: { _id: 1 }, limit }).toArray();
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
    return (await raw.distinct('tenantId', { processed: false })).filter((tenant): tenant is string => typeof tenant === 'string').sort();
  } catch (error) {
    throw classifyMongoError(error);
  }
}

/** At most this many tenants' queries in one page; the next page starts where this one stopped. */
export const TENANTS_PER_PAGE = 32;

export interface FairPageOptions {
  limit: number;
  /** The tenants with documents waiting, in a stable order; `start` rotates through them page by page. */
  tenants: readonly string[];
  start: number;
  /** How many more of this tenant's documents the pipeline can take now. */
  roomFor(tenant: string): number;
  weightOf(tenant: string): number;
  now?: Date;
}

/**
 * One page of the sweep that serves tenants in turn: each tenant (up to TENANTS_PER_PAGE, from a rotating
 * start) gets a share of the page in proportion to its weight, never more than the pipeline has room for
 * it, and its oldest claimable documents fill it (index `waiting_by_tenant`: equality on tenantId, then
 * `_id` order; the server stops after the share). `full` says that more may wait: a tenant filled its
 * share or had no room for all of it, or tenants were left for the next page.
 */
export async function findWaitingFair(
  raw: Collection<RawTransaction>,
  { limit, tenants, start, roomFor, weightOf, now = new Date() }: FairPageOptions,
): Promise<{ found: Array<{ id: string; tenantId: string }>; full: boolean }> {
  const first = tenants.length === 0 ? 0 : start % tenants.length;
  const order = [...tenants.slice(first), ...tenants.slice(0, first)].slice(0, TENANTS_PER_PAGE);
  const totalWeight = order.reduce((sum, tenant) => sum + weightOf(tenant), 0);
  const fairShares = order.map((tenant) => Math.max(1, Math.ceil((limit * weightOf(tenant)) / totalWeight)));
  const shares = order.map((tenant, i) => Math.min(roomFor(tenant), fairShares[i]!));
  try {
    const pages = await Promise.all(
      order.map(async (tenantId, i) => {
        if (shares[i]! <= 0) return [];
        const docs = await raw
          .find({ ...claimableFilter(now), tenantId }, { projection: { _id: 1 }, sort: { _id: 1 }, limit: shares[i]! })
          .toArray();
        return docs.map((doc) => ({ id: doc._id.toHexString(), tenantId }));
      }),
    );
    // More may wait: tenants left for the next page, a tenant the pipeline had no room for (at its cap), or
    // one that filled its share.
    const full =
      tenants.length > order.length ||
      shares.some((share, i) => share < fairShares[i]!) ||
      pages.some((page, i) => page.length > 0 && page.length >= shares[i]!);
    return { found: pages.flat(), full };
  } catch (error) {
    throw classifyMongoError(error);
  }
}
