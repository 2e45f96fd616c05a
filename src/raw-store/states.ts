// The raw document's state machine, defined once: the only definitions of "waiting" (the backlog) and "claimable".
import type { Filter } from 'mongodb';
import type { RawTransaction } from './collections.js';

/**
 * Statuses a replay puts back in line. The whole machine:
 *
 *   pending --claim--> leased --markProcessed--> processed
 *                        |--markFailed--> failed (retried after a backoff) --claim--> leased ...
 *                        '--markFailed (out of attempts)--> dead
 *   failed | dead --replay--> pending          leased --releaseLeases / lease expiry--> claimable again
 *
 * "Leased" is not a status of its own: it is a pending or failed document whose leaseUntil is in the future.
 */
export const REPLAYABLE_STATUSES = ['failed', 'dead'] as const;

/** The backlog: documents not processed yet that will be (not dead-lettered). */
export const WAITING: Filter<RawTransaction> = { processed: false, status: { $in: ['pending', 'failed'] } };

/** The lease fields of a document no worker holds: set by a release, a mark, a replay or a correction. */
export const NO_LEASE = { leaseOwner: null, leaseUntil: null, leaseToken: null } as const;

/** Documents a worker may take now: waiting, and not under someone's unexpired lease or backoff. */
export function claimableFilter(now: Date): Filter<RawTransaction> {
  return { ...WAITING, $or: [{ leaseUntil: null }, { leaseUntil: { $lte: now } }] };
}
